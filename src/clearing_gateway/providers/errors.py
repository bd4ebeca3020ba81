"""What can go wrong when calling a provider, split by what the caller may conclude.

Withdrawals depend on the distinction: after `ProviderRejected` nothing happened and the
hold can be released; after `ProviderUnavailable` the request never left, so another
provider may be tried; after `ProviderOutcomeUnknown` the provider may have acted, so
the caller must wait for a callback or a status poll and never reroute or fail.
"""

from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail


class ProviderRejected(ProviderError):
    """A definitive refusal: the provider answered and did nothing."""

    def __init__(
        self, provider: str, code: str, message: str, *, http_status: int | None = None
    ) -> None:
        super().__init__(provider, f"rejected {code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class ProviderUnavailable(ProviderError):
    """The request could not be delivered (connection refused, connect timeout)."""


class ProviderOutcomeUnknown(ProviderError):
    """The request may have been acted on: timeout after sending, 5xx, unreadable answer."""


class ProviderNotYetConfirmed(ProviderError):
    """The provider knows the event but does not show it as done yet (a read API that lags
    its own webhook): the callback is kept and asked about again, never treated as forged."""


class CapabilityNotSupported(ProviderError):
    """The provider does not offer this operation."""


class CallbackRejected(Exception):
    """A callback that does not check out; `reason` is stored in the inbox row.

    `malformed` separates an unreadable body (400 where the provider documents one) from
    a callback that fails authentication (401)."""

    def __init__(self, reason: str, *, malformed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.malformed = malformed


class CallbackIgnored(Exception):
    """Raised by a domain handler for a genuine event it has no use for (kept as ignored)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
