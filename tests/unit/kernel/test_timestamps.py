"""The one time parser: ISO 8601 strings, epoch seconds and epoch milliseconds, as strings or numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sm_lifecycle.kernel.timestamps import EPOCH_MS_CUTOFF, optional_utc_datetime, to_utc_datetime

INSTANT = datetime(2026, 3, 24, 16, 3, 13, tzinfo=UTC)
SECONDS = INSTANT.timestamp()  # 1774368193.0


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-24T16:03:13Z",
        "2026-03-24T16:03:13+00:00",
        "2026-03-24T17:03:13+01:00",
        "2026-03-24T11:03:13-05:00",
        "2026-03-24T16:03:13",  # no offset: UTC
        "2026-03-24 16:03:13Z",
        " 2026-03-24T16:03:13.000Z ",
        int(SECONDS),
        SECONDS,
        str(int(SECONDS)),
        f"{SECONDS:.3f}",
        int(SECONDS * 1000),
        SECONDS * 1000,
        str(int(SECONDS * 1000)),
        "1.774368193e12",
        INSTANT,
        INSTANT.replace(tzinfo=None),
        INSTANT.astimezone(timezone(timedelta(hours=9))),
    ],
    ids=repr,
)
def test_every_encoding_of_one_instant_is_the_same_aware_utc_datetime(value: Any) -> None:
    parsed = to_utc_datetime(value)
    assert parsed == INSTANT
    assert parsed.tzinfo is UTC


def test_milliseconds_keep_their_fraction() -> None:
    assert to_utc_datetime(1774342992203) == datetime(2026, 3, 24, 9, 3, 12, 203000, tzinfo=UTC)
    assert to_utc_datetime("1774342992203") == datetime(2026, 3, 24, 9, 3, 12, 203000, tzinfo=UTC)
    assert to_utc_datetime(1774342992.203) == datetime(2026, 3, 24, 9, 3, 12, 203000, tzinfo=UTC)


def test_the_cutoff_between_seconds_and_milliseconds() -> None:
    # just below: seconds (the year 5138); from it on: milliseconds (March 1973); negative numbers likewise
    assert to_utc_datetime(EPOCH_MS_CUTOFF - 1).year == 5138
    assert to_utc_datetime(EPOCH_MS_CUTOFF) == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)
    assert to_utc_datetime(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_utc_datetime(-86400) == datetime(1969, 12, 31, tzinfo=UTC)
    assert to_utc_datetime(-EPOCH_MS_CUTOFF) == datetime(1966, 10, 31, 14, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["not a time", "", "2026-13-40T00:00:00Z", "12:00", "1e400", "nan", True, False, None, [], {}, float("nan"),
     float("inf"), 1e20, "-1e20"],
    ids=repr,
)  # fmt: skip
def test_anything_else_is_a_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match=r"time|range|finite"):
        to_utc_datetime(value)


def test_optional_reads_absence_as_none_and_refuses_garbage() -> None:
    assert optional_utc_datetime(None) is None
    assert optional_utc_datetime("") is None
    assert optional_utc_datetime("  ") is None
    assert optional_utc_datetime("2026-03-24T16:03:13Z") == INSTANT
    with pytest.raises(ValueError):
        optional_utc_datetime("soon")
