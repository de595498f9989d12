"""XML Schema dateTimeStamp parsing (XMLSCHEMA11-2 §3.4.28) as used for credential dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledgr.errors import InvalidDocument
from ledgr.vc.dates import format_date_time_stamp, parse_date_time_stamp, require_aware


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T02:30:00+02:30", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2025-12-31T19:00:00-05:00", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T00:00:00.123456789Z", datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
    ("2026-01-01T00:00:00.5Z", datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("2025-12-31T24:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-06-01T12:00:00+14:00", datetime(2026, 5, 31, 22, tzinfo=UTC)),
])
def test_parses_to_utc(text: str, expected: datetime) -> None:
    assert parse_date_time_stamp(text, "validFrom") == expected


@pytest.mark.parametrize("text", [
    "2026-01-01T00:00:00",          # no timezone: not a dateTimeStamp
    "2026-01-01",                   # a date, not a date-time
    "2026-13-01T00:00:00Z",         # month 13
    "2026-02-30T00:00:00Z",         # no such day
    "2026-01-01T24:00:01Z",         # 24 only as 24:00:00
    "2026-01-01T00:00:00+15:00",    # offset beyond ±14:00
    "2026-01-01T00:00:00+01:60",    # minutes 60
    "2026-01-01 00:00:00Z",         # space instead of T
    "26-01-01T00:00:00Z",           # two-digit year
    "2026-01-01T00:00:00z",         # lower-case z
    "x" * 100,                      # too long
])
def test_rejects_non_date_time_stamps(text: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_date_time_stamp(text, "validUntil")
    assert caught.value.extra["property"] == "validUntil"
    assert "validUntil" in caught.value.detail


def test_rejects_non_strings_and_year_overflow() -> None:
    with pytest.raises(InvalidDocument, match="string"):
        parse_date_time_stamp(20260101, "created")
    with pytest.raises(InvalidDocument, match="0001-9999"):
        parse_date_time_stamp("0001-01-01T00:00:00+01:00", "created")


def test_format_is_second_precision_utc() -> None:
    moment = datetime(2026, 1, 1, 1, 2, 3, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert format_date_time_stamp(moment) == "2026-01-01T00:02:03Z"
    with pytest.raises(InvalidDocument):
        format_date_time_stamp(datetime(2026, 1, 1))


def test_require_aware() -> None:
    assert require_aware(datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == datetime(
        2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidDocument):
        require_aware(datetime(2026, 1, 1))
