"""A clock tests move forward by hand, so retries and leases never need real sleeps."""

from __future__ import annotations

import datetime as dt

from clearing_gateway.kit.clock import utcnow


class ManualClock:
    """Real time plus an offset that only grows (never behind rows stamped by utcnow)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)
