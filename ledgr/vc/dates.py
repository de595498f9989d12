"""XML Schema ``dateTimeStamp`` parsing for credential dates (VC DM 2.0 §4.9, XMLSCHEMA11-2 §3.4.28).

VC 2.0 ``validFrom``/``validUntil`` and Data Integrity ``created``/``expires`` are
``xsd:dateTimeStamp``: an ``xsd:dateTime`` whose timezone is *required*. VC 1.1 ``issuanceDate`` and
``expirationDate`` are RFC 3339 date-times, which also carry an offset, so one strict parser serves
both. A date without a timezone is ambiguous by up to 26 hours, so it is rejected rather than guessed.

Lexical form (XMLSCHEMA11-2 §3.3.7.2, restricted to what Python can represent: years 0001-9999)::

    YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)

``24:00:00`` is the first instant of the next day (XMLSCHEMA11-2 §3.3.7.1). Fractions beyond
microseconds are truncated, never rounded up past the stated second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ledgr.errors import InvalidDocument

MAX_DATE_CHARS = 64
_TIMEZONE_MINUTES_MAX = 14 * 60

_DATE_TIME_STAMP = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})$"
)


def parse_date_time_stamp(value: object, field: str) -> datetime:
    """Parse ``value`` as an ``xsd:dateTimeStamp`` into an aware UTC datetime.

    ``field`` names the property in the error message (e.g. ``validFrom``).
    """
    if not isinstance(value, str):
        raise InvalidDocument(f"{field} must be a date-time string, not {type(value).__name__}",
                              property=field)
    if len(value) > MAX_DATE_CHARS:
        raise InvalidDocument(f"{field} is too long to be a date-time", property=field)
    match = _DATE_TIME_STAMP.match(value)
    if match is None:
        raise InvalidDocument(
            f"{field} {value!r} is not an XML Schema dateTimeStamp "
            "(YYYY-MM-DDThh:mm:ss[.fff] with 'Z' or a ±hh:mm offset)", property=field)
    parts = {name: int(text) for name, text in match.groupdict().items()
             if text is not None and name not in ("fraction", "tz")}
    end_of_day = parts["hour"] == 24
    if end_of_day:
        if parts["minute"] or parts["second"] or int(match.group("fraction") or "0"):
            raise InvalidDocument(f"{field} {value!r}: hour 24 is only allowed as 24:00:00",
                                  property=field)
        parts["hour"] = 0
    fraction = (match.group("fraction") or "").ljust(6, "0")[:6]
    try:
        stamp = datetime(parts["year"], parts["month"], parts["day"], parts["hour"], parts["minute"],
                         parts["second"], int(fraction), tzinfo=UTC)
    except ValueError as exc:
        raise InvalidDocument(f"{field} {value!r} is not a valid date-time: {exc}",
                              property=field) from exc
    offset = _offset(match.group("tz"), field, value)
    try:
        return stamp - offset + (timedelta(days=1) if end_of_day else timedelta())
    except OverflowError as exc:
        raise InvalidDocument(f"{field} {value!r} is outside the supported years 0001-9999",
                              property=field) from exc


def format_date_time_stamp(moment: datetime) -> str:
    """``moment`` in UTC with second precision and a ``Z`` suffix (the form ledgr issues)."""
    if moment.tzinfo is None:
        raise InvalidDocument("a date-time needs a timezone")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def require_aware(now: datetime) -> datetime:
    """The verifier's ``now`` must be timezone-aware: a naive time would be compared by guesswork."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidDocument("now must be a timezone-aware datetime (e.g. datetime.now(UTC))")
    return now.astimezone(UTC)


def _offset(tz: str, field: str, value: str) -> timedelta:
    if tz == "Z":
        return timedelta()
    sign = 1 if tz[0] == "+" else -1
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    total = hours * 60 + minutes
    if minutes > 59 or total > _TIMEZONE_MINUTES_MAX:
        raise InvalidDocument(f"{field} {value!r} has a timezone offset outside ±14:00",
                              property=field)
    return timedelta(minutes=sign * total)
