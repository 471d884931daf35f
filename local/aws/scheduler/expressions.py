"""EventBridge Scheduler's schedule expressions: when a schedule fires (user guide, "Schedule types").

``at(yyyy-mm-ddThh:mm:ss)`` fires once, at that time in ``ScheduleExpressionTimezone`` (an IANA name, UTC by
default); ``rate(value unit)`` fires every ``value`` (a positive integer) minutes, hours or days (``minute`` /
``minutes`` / ``hour`` / ``hours`` / ``day`` / ``days``); ``cron(...)`` is accepted but the emulator does not fire
it. Anything else is refused with ``ValidationException``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moto.scheduler.exceptions import ValidationException

_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_RATE = re.compile(r"rate\(([1-9]\d*) (minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class When:
    """A parsed expression: ``at`` (one-time, a UTC instant) or ``every`` (recurring), or neither (cron)."""

    at: datetime | None = None
    every: timedelta | None = None


def parse(expression: str | None, timezone: str | None) -> When:
    text = (expression or "").strip()
    zone = _zone(timezone)
    if (found := _AT.fullmatch(text)) is not None:
        try:
            local = datetime.fromisoformat(found.group(1))
        except ValueError as exc:
            raise ValidationException(f"Invalid Schedule Expression {text}.") from exc
        return When(at=local.replace(tzinfo=zone).astimezone(UTC))
    if (found := _RATE.fullmatch(text)) is not None:
        value, unit = int(found.group(1)), found.group(2)
        return When(every=timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")]))
    if _CRON.fullmatch(text):
        return When()
    raise ValidationException(f"Invalid Schedule Expression {text}.")


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationException(f"Invalid ScheduleExpressionTimezone {timezone}.") from exc


def instant(value: object) -> datetime | None:
    """A StartDate / EndDate as the wire carries it (epoch seconds or ISO 8601) as a UTC instant."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
