"""The gateway's notion of now (one place to freeze in tests)."""

from __future__ import annotations

import datetime as dt
import time


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def isoformat(value: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, second precision unless sub-second matters."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")
