"""The one time parser: every time SageMaker, its events, the API or our own records carry becomes an aware UTC
``datetime`` here.

Accepted: ``datetime`` (naive is taken as UTC), ISO 8601 strings (with or without an offset, ``Z`` included), and
epoch numbers, as ``int``/``float`` or as strings. An epoch number whose magnitude is below :data:`EPOCH_MS_CUTOFF`
is read as seconds, from it on as milliseconds: SageMaker events send milliseconds, the API and hand-written events
sometimes seconds, and the two ranges do not meet in practice (1e11 seconds is the year 5138, 1e11 milliseconds is
March 1973).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

__all__ = ["EPOCH_MS_CUTOFF", "optional_utc_datetime", "to_utc_datetime"]

EPOCH_MS_CUTOFF = 1e11
"""Epoch numbers with ``abs(value) < EPOCH_MS_CUTOFF`` are seconds, the others milliseconds."""

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EXPECTED = "expected a time (ISO 8601, epoch seconds or epoch milliseconds)"


def _from_epoch(value: float) -> datetime:
    if not math.isfinite(value):
        raise ValueError("time must be a finite number")
    seconds = value / 1000.0 if abs(value) >= EPOCH_MS_CUTOFF else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"time {value!r} is out of range") from exc


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_utc_datetime(value: object) -> datetime:
    """An aware UTC ``datetime`` from any accepted time value (see the module docstring); ``ValueError`` otherwise."""
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, bool):
        raise ValueError(f"{_EXPECTED}, got a boolean")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text):
            return _from_epoch(float(text))
        try:
            return _utc(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{_EXPECTED}, got {value!r}") from None
    raise ValueError(f"{_EXPECTED}, got {type(value).__name__}")


def optional_utc_datetime(value: object) -> datetime | None:
    """:func:`to_utc_datetime`, with ``None`` for an absent value (``None`` or an empty string)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_utc_datetime(value)
