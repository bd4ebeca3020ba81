"""The gateway's notion of now (one place to freeze in tests)."""

from __future__ import annotations

import datetime as dt
import time

# Western Indonesia Time: the providers' zone. Their zone-less times are read in it,
# never as UTC (a 7 h skew otherwise).
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def in_wib(moment: dt.datetime) -> dt.datetime:
    """A provider time: zone-less means Jakarta time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def wib_wall_clock(moment: dt.datetime | None = None) -> str:
    """`YYYY-MM-DDTHH:MM:SS` in Jakarta time, as Finan writes its times (no zone)."""
    return (moment or utcnow()).astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def isoformat(value: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, second precision unless sub-second matters."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")
