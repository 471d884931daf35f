"""Times as the embedded AWS reads and writes them.

:func:`as_datetime` is the one parser of the emulator: datetimes, ISO-8601 strings, epoch seconds or epoch
milliseconds (numbers, or strings of digits), ``None`` for now. The formatters write the shapes SageMaker's events
carry (ISO-8601 seconds, epoch milliseconds as a number or as a string).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

Moment = datetime | float | str | None

EPOCH_MILLISECONDS_ABOVE = 1e11  # a larger epoch number counts milliseconds (1e11 seconds is the year 5138)
_DIGITS = re.compile(r"\d+(\.\d+)?")


def as_datetime(value: Moment) -> datetime:
    """A timezone-aware datetime (naive datetimes are taken as UTC); ``None`` is now."""
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > EPOCH_MILLISECONDS_ABOVE else value
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value)
    if _DIGITS.fullmatch(text):
        return as_datetime(float(text))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_naive_utc(value: Moment) -> datetime | None:
    """How moto keeps times (naive UTC datetimes); ``None`` stays ``None``, datetimes are kept as given."""
    if value is None or isinstance(value, datetime):
        return value
    return as_datetime(value).replace(tzinfo=None)


def iso(value: Moment = None) -> str:
    """``2026-03-24T17:00:14Z`` (the envelope ``time`` and most detail times)."""
    return as_datetime(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(value: Moment = None) -> float:
    """Milliseconds since the epoch as a number (endpoint events: ``1774342992203.0``)."""
    return float(round(as_datetime(value).timestamp() * 1000))


def epoch_ms_str(value: Moment = None) -> str:
    """Milliseconds since the epoch as a string (training job events: ``"1774342800000"``)."""
    return str(int(epoch_ms(value)))


def with_iso_times(value: Any) -> Any:
    """``value`` (dicts and lists of them) with every datetime written as :func:`iso` (what JSON can carry)."""
    if isinstance(value, Mapping):
        return {k: with_iso_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_iso_times(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return value
