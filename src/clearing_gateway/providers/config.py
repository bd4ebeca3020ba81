"""Provider credentials and base URLs, resolved from Settings.

In sandbox mode anything left unset points at the built-in sandbox of that provider
(mounted at `{public_base_url}/sandbox/<name>`) with the sandbox's own credentials. In
production every credential is required and start-up fails without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clearing_gateway.config import Settings

# Credentials of the built-in sandboxes: public test values, never valid upstream.
SANDBOX_TOPREMIT = {"client_id": "sandbox-topremit-client", "secret": "sandbox-topremit-secret"}
SANDBOX_FINPAY = {"merchant_id": "FINPAYSANDBOX", "key": "sandbox-finpay-key"}
SANDBOX_FINAN = {
    "client_id": "sandbox-finan-client",
    "secret": "sandbox-finan-secret",
    "account_id": "5a0c6f43-0000-4000-8000-000000000001",
    "pass_code": "123456",
}


class ProviderConfigError(ValueError):
    """A required provider setting is missing."""


@dataclass(frozen=True)
class TopremitConfig:
    base_url: str
    client_id: str
    client_secret: str
    partner_id: str
    channel_id: str
    partner_service_id: str
    signature_encoding: str
    callback_secret: str
    callback_window_seconds: int


@dataclass(frozen=True)
class FinpayConfig:
    base_url: str
    merchant_id: str
    merchant_key: str
    signature_field: str
    # Outside production the inquiry carries the holder the merchant expects, for the
    # sandbox's "any well-formed account" rule (docs/sandbox.md).
    sandbox_hints: bool = False


@dataclass(frozen=True)
class FinanConfig:
    base_url: str  # including Finan's `/open` prefix
    client_id: str
    secret_key: str
    account_id: str
    payout_pass_code: str
    window_seconds: int = 30
    # Set: every webhook must be signed with it (otherwise unsigned ones are confirmed
    # through the read API, and signed ones are checked with secret_key).
    webhook_secret: str | None = None


@dataclass(frozen=True)
class ProviderConfig:
    topremit: TopremitConfig
    finpay: FinpayConfig
    finan: FinanConfig
    connect_timeout: float
    read_timeout: float
    sandbox_callback_base_url: str
    sandbox_settle_delay_seconds: float
    sandbox_retry_schedules: dict[str, tuple[float, ...]] = field(default_factory=dict)
    sandbox_finpay_intermediate_statuses: bool = True
    sandbox_magic_delay_seconds: float = 30.0


def sandbox_base_url(settings: Settings, name: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/sandbox/{name}"


def resolve_provider_config(settings: Settings) -> ProviderConfig:
    production = settings.is_production
    missing: list[str] = []

    def pick(env_name: str, value: str | None, sandbox_default: str) -> str:
        if value:
            return value
        if production:
            missing.append(env_name.upper())
            return ""
        return sandbox_default

    def secret(env_name: str, value: object, sandbox_default: str) -> str:
        text = value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]
        return pick(env_name, text, sandbox_default)

    topremit_secret = secret(
        "topremit_client_secret", settings.topremit_client_secret, SANDBOX_TOPREMIT["secret"]
    )
    topremit_client = pick(
        "topremit_client_id", settings.topremit_client_id, SANDBOX_TOPREMIT["client_id"]
    )
    topremit = TopremitConfig(
        base_url=pick(
            "topremit_base_url", settings.topremit_base_url, sandbox_base_url(settings, "topremit")
        ),
        client_id=topremit_client,
        client_secret=topremit_secret,
        partner_id=settings.topremit_partner_id or topremit_client,
        channel_id=settings.topremit_channel_id,
        partner_service_id=settings.topremit_partner_service_id,
        signature_encoding=settings.topremit_signature_encoding,
        callback_secret=(
            settings.topremit_callback_secret.get_secret_value()
            if settings.topremit_callback_secret
            else topremit_secret
        ),
        callback_window_seconds=settings.provider_callback_window_seconds,
    )
    finpay = FinpayConfig(
        base_url=pick(
            "finpay_base_url", settings.finpay_base_url, sandbox_base_url(settings, "finpay")
        ),
        merchant_id=pick(
            "finpay_merchant_id", settings.finpay_merchant_id, SANDBOX_FINPAY["merchant_id"]
        ),
        merchant_key=secret(
            "finpay_merchant_key", settings.finpay_merchant_key, SANDBOX_FINPAY["key"]
        ),
        signature_field=settings.finpay_signature_field,
        sandbox_hints=not production,
    )
    finan = FinanConfig(
        base_url=pick(
            "finan_base_url", settings.finan_base_url, sandbox_base_url(settings, "finan") + "/open"
        ),
        client_id=pick("finan_client_id", settings.finan_client_id, SANDBOX_FINAN["client_id"]),
        secret_key=secret("finan_secret_key", settings.finan_secret_key, SANDBOX_FINAN["secret"]),
        account_id=pick("finan_account_id", settings.finan_account_id, SANDBOX_FINAN["account_id"]),
        payout_pass_code=secret(
            "finan_payout_pass_code", settings.finan_payout_pass_code, SANDBOX_FINAN["pass_code"]
        ),
        webhook_secret=(
            settings.finan_webhook_secret.get_secret_value()
            if settings.finan_webhook_secret
            else None
        ),
    )
    if missing:
        raise ProviderConfigError("missing provider settings: " + ", ".join(missing))
    return ProviderConfig(
        topremit=topremit,
        finpay=finpay,
        finan=finan,
        connect_timeout=settings.provider_connect_timeout_seconds,
        read_timeout=settings.provider_read_timeout_seconds,
        sandbox_callback_base_url=(settings.sandbox_callback_base_url or settings.public_base_url),
        sandbox_settle_delay_seconds=settings.sandbox_settle_delay_seconds,
        sandbox_retry_schedules={
            "topremit": tuple(settings.sandbox_topremit_retry_schedule),
            "finpay": tuple(settings.sandbox_finpay_retry_schedule),
            "finan": tuple(settings.sandbox_finan_retry_schedule),
        },
        sandbox_finpay_intermediate_statuses=settings.sandbox_finpay_intermediate_statuses,
        sandbox_magic_delay_seconds=settings.sandbox_magic_delay_seconds,
    )
