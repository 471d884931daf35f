"""Times as the embedded AWS reads and writes them.

Parsing is the domain layer's one time parser (:func:`sm_lifecycle.kernel.timestamps.to_utc_datetime`: datetimes,
ISO-8601 strings, epoch seconds or milliseconds as numbers or strings); :func:`as_datetime` adds only the emulator's
convention that ``None`` is now. The formatters write the shapes SageMaker's events carry (ISO-8601 seconds, epoch
milliseconds as a number or as a string).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sm_lifecycle.kernel.timestamps import to_utc_datetime

Moment = datetime | float | str | None


def as_datetime(value: Moment) -> datetime:
    """A timezone-aware UTC datetime (naive datetimes are taken as UTC); ``None`` is now."""
    return datetime.now(UTC) if value is None else to_utc_datetime(value)


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
