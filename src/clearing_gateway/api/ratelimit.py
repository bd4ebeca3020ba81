"""Request rate limits on the merchant API: per merchant and per client address.

Counted with the `limits` library in a moving window: in this process's memory by
default, or in Redis when RATE_LIMIT_STORAGE_URL is set (then every API process shares
one count). Provider callbacks are never limited here (their verification and the
rejection budget in providers/intake.py protect them), nor are health and metrics.
A storage that fails lets the request through: a rate limit must not take the API down.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from clearing_gateway.config import Settings
from clearing_gateway.kit.errors import ErrorCode, GatewayError
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.ratelimit")


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        url = settings.rate_limit_storage_url or "async+memory://"
        options: dict[str, float | str | bool] = {}
        if "redis" in url.split(":", 1)[0]:
            options["key_prefix"] = settings.rate_limit_key_prefix
        self.limiter = MovingWindowRateLimiter(storage_from_string(url, **options))
        self.per_merchant = parse(settings.rate_limit_per_merchant)
        self.per_address = parse(settings.rate_limit_per_address)

    async def check_address(self, address: str | None) -> None:
        await self._check(self.per_address, "address", address or "unknown")

    async def check_merchant(self, merchant_id: str) -> None:
        await self._check(self.per_merchant, "merchant", merchant_id)

    async def _check(self, item: RateLimitItem, scope: str, key: str) -> None:
        if not self.enabled:
            return
        try:
            if await self.limiter.hit(item, scope, key):
                return
            stats = await self.limiter.get_window_stats(item, scope, key)
        except Exception as exc:
            log.warning("rate limit storage failed; request let through", error=repr(exc))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(scope, str(item), retry_after)


class RateLimited(GatewayError):
    def __init__(self, scope: str, limit: str, retry_after: int) -> None:
        super().__init__(
            429,
            ErrorCode.TOO_MANY_REQUESTS,
            f"too many requests from this {scope} ({limit}); retry after {retry_after} s",
        )
        self.retry_after = retry_after
