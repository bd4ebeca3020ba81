"""Settings, read once from the environment.

Every knob has a sandbox-friendly default; `production` refuses to start without the
values that must never be defaulted (encryption key, provider credentials).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The prefix of the API document's signing example (`/d/v1/users`).
SEED_PATH_PREFIX = "/d"


class Environment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    gateway_env: Environment = Environment.SANDBOX
    database_url: str = "sqlite:///./clearing-gateway.sqlite3"
    # Fernet key (urlsafe base64, 32 bytes) protecting merchant API secrets at rest.
    # Required in production; in sandbox a key file is created beside the working dir.
    gateway_encryption_key: SecretStr | None = None
    encryption_key_file: Path = Path(".clearing-gateway.key")

    # Public URL prefix added by a fronting proxy (the seed signs `/d/v1/users`). Empty:
    # merchant requests are still accepted under the seed's own `/d` (merchant_path_prefix).
    public_path_prefix: str = ""
    # Where the gateway is reachable, used to build callback URLs for the sandboxes.
    public_base_url: str = "http://127.0.0.1:8000"
    # Proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma separated).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    signature_window_seconds: int = 300
    max_body_bytes: int = 256 * 1024
    api_key_rotation_overlap_hours: int = 24
    idempotency_retention_hours: int = 48

    # Virtual accounts: open-amount VAs accept payments within [min, max] (minor units;
    # max 0 = no maximum) until they expire.
    va_validity_days: int = 3650
    va_min_amount: int = 1_000_000  # IDR 10,000.00
    va_max_amount: int = 0
    # Fixed-amount instruments (QRIS, cash-in payment requests) expire after this.
    qris_validity_minutes: int = 30
    # How long the payment simulator waits for the sandbox's callback to become a deposit.
    simulator_wait_seconds: float = 10.0

    log_level: str = "INFO"
    log_json: bool = True

    # Upstream providers (docs/providers/). Unset values default, in sandbox mode, to the
    # built-in sandboxes at {public_base_url}/sandbox/<name>; production requires them.
    provider_connect_timeout_seconds: float = 3.0
    provider_read_timeout_seconds: float = 20.0
    provider_callback_window_seconds: int = 300
    va_provider_order: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["topremit"])
    topremit_base_url: str | None = None
    topremit_client_id: str | None = None
    topremit_client_secret: SecretStr | None = None
    topremit_partner_id: str | None = None
    topremit_channel_id: str = "95221"
    topremit_partner_service_id: str = "   88899"
    topremit_signature_encoding: Literal["base64", "hex"] = "base64"
    # Secret Topremit signs callbacks with; defaults to the client secret.
    topremit_callback_secret: SecretStr | None = None
    finpay_base_url: str | None = None
    finpay_merchant_id: str | None = None
    finpay_merchant_key: SecretStr | None = None
    finpay_signature_field: str = "signature"
    finan_base_url: str | None = None
    finan_client_id: str | None = None
    finan_secret_key: SecretStr | None = None
    finan_account_id: str | None = None
    finan_payout_pass_code: SecretStr | None = None
    # Built-in sandboxes: where they send callbacks (default public_base_url) and how long
    # a transfer takes to settle by default.
    sandbox_callback_base_url: str | None = None
    sandbox_settle_delay_seconds: float = 0.5
    # How each sandbox re-sends a callback the gateway did not accept (seconds after the
    # previous attempt, one entry per retry). None of the three documents its schedule:
    # these are assumptions (docs/sandbox.md), changeable at run time via /control.
    sandbox_topremit_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0]
    )
    sandbox_finpay_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 600.0]
    )
    sandbox_finan_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 60.0, 300.0]
    )
    # Finpay's sandbox reports 01 (initiated) → 03 (pending) → final, as Finpay does;
    # off: only the final notification.
    sandbox_finpay_intermediate_statuses: bool = True
    # How long the sandboxes keep a magic "pending" payout or a "late" callback waiting.
    sandbox_magic_delay_seconds: float = 30.0

    db_pool_size: int = 10
    db_max_overflow: int = 10
    sqlite_busy_timeout_ms: int = 30_000

    # Outbox worker (jobs/). In sandbox `serve` runs one in-process unless told not to.
    run_worker_in_process: bool | None = None
    worker_concurrency: int = Field(default=32, ge=1)
    worker_per_key_limit: int = Field(default=4, ge=1)
    worker_poll_interval_seconds: float = Field(default=0.5, gt=0)
    # PostgreSQL: LISTEN for the jobs table's NOTIFY and claim new jobs at once.
    worker_listen: bool = True
    # Verified API credentials kept per API process (PostgreSQL only, revoked at once by
    # NOTIFY on any change of the merchant or its keys); 0 turns the cache off.
    auth_cache_ttl_seconds: float = Field(default=30.0, ge=0)
    job_lease_seconds: float = Field(default=120.0, gt=0)
    job_retention_days: float = Field(default=7.0, gt=0)
    # Merchant API rate limits (api/ratelimit.py): `limits` notation ("600/minute").
    # Memory (per process) unless RATE_LIMIT_STORAGE_URL names Redis (async+redis://…).
    rate_limit_enabled: bool = True
    rate_limit_per_merchant: str = "1200/minute"
    rate_limit_per_address: str = "600/minute"
    rate_limit_storage_url: str | None = None
    rate_limit_key_prefix: str = "clearing-gateway"
    # Graceful shutdown (docs/operations.md): on SIGTERM /readyz answers 503 for
    # SHUTDOWN_DRAIN_SECONDS (default 5 in production, 0 in sandbox) while requests are
    # still served, then the listener closes; requests and jobs in flight get
    # SHUTDOWN_TIMEOUT_SECONDS to finish, after which unfinished jobs are released.
    shutdown_drain_seconds: float | None = Field(default=None, ge=0)
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)
    # OpenTelemetry (kit/tracing.py; needs the `otel` extra): install the SDK and export
    # spans over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* variables).
    otel_enabled: bool = False
    otel_service_name: str = "clearing-gateway"
    # A standalone `worker` serves /metrics, /healthz and /readyz here (unset: none).
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    # Merchant webhooks (webhooks/).
    webhook_retry_schedule_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    webhook_log_retention_days: float = Field(default=30.0, gt=0)
    webhook_secret_rotation_overlap_hours: float = Field(default=24.0, ge=0)

    # Withdrawals (withdrawals/, docs/withdrawals.md).
    withdrawal_max_amount: str = "100000000.00"  # per transaction, decimal string
    withdrawal_poll_after_seconds: float = Field(default=60.0, gt=0)
    withdrawal_poll_max_interval_seconds: float = Field(default=3600.0, gt=0)
    withdrawal_stuck_after_seconds: float = Field(default=86400.0, gt=0)
    # Reconciliation of withdrawals (docs/reconciliation.md, "Withdrawals").
    # The submission fence: longer than one provider call can last (connect + read).
    withdrawal_submit_lease_seconds: float = Field(default=300.0, gt=0)
    # Only the provider's explicit "not found" this long after the submission counts as
    # "never received" (an order may take a while to appear at an asynchronous provider).
    withdrawal_not_found_after_seconds: float = Field(default=900.0, gt=0)
    # Send again by itself after "never received"? Off: an operator decides, until the
    # provider documents that a reused order id is refused.
    withdrawal_auto_resubmit: bool = False
    # How long a SUCCESS withdrawal is still checked for a refund, and the longest gap
    # between two of those checks.
    withdrawal_refund_window_seconds: float = Field(default=30 * 86400.0, gt=0)
    withdrawal_refund_poll_max_interval_seconds: float = Field(default=86400.0, gt=0)
    # A provider notification Check Status still contradicts after this long goes to
    # an operator (it keeps being checked).
    withdrawal_notice_confirm_seconds: float = Field(default=86400.0, gt=0)
    # Production runs on PostgreSQL: SQLite serialises every write and holds its lock
    # across provider calls. Set to true only to run production on SQLite knowingly.
    allow_sqlite_in_production: bool = False

    # Deposit and statement reconciliation (reconciliation/, docs/reconciliation.md).
    deposit_reconcile_lookback_hours: float = Field(default=72.0, gt=0)
    deposit_reconcile_grace_seconds: float = Field(default=30.0, ge=0)

    # Provider callback intake (providers/intake.py, docs/security.md).
    # Rejected callbacks one source (address, IPv6 /64) may send per minute and provider
    # before its callbacks are answered 429 unread.
    callback_rejections_per_minute: int = Field(default=30, ge=1)
    # How long a confirmation the provider's read API gave is reused for the same event.
    callback_confirmation_reuse_seconds: float = Field(default=5.0, ge=0)
    # Inbox retention: rejected, duplicate and ignored rows are deleted after this;
    # applied and verified rows (evidence of money movements) are kept.
    callback_inbox_retention_days: float = Field(default=30.0, gt=0)
    # A row still `received` this long after arrival is swept (docs/security.md).
    callback_stuck_after_minutes: float = Field(default=15.0, gt=0)
    # When set, every Finan webhook must carry a valid x-signature made with this secret.
    finan_webhook_secret: SecretStr | None = None

    # The web console (console/, docs/console.md). A session lasts this long after login;
    # failed logins per address and per email within the window before refusing more.
    console_session_hours: float = Field(default=12.0, gt=0)
    console_login_failures: int = Field(default=5, ge=1)
    console_login_window_seconds: float = Field(default=900.0, gt=0)

    @field_validator("rate_limit_per_merchant", "rate_limit_per_address")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '600/minute': {value!r}") from exc
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "webhook_retry_schedule_seconds",
        "sandbox_topremit_retry_schedule",
        "sandbox_finpay_retry_schedule",
        "sandbox_finan_retry_schedule",
        mode="before",
    )
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("va_provider_order", mode="before")
    @classmethod
    def _split_providers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_path_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            value = "/" + value
        return value

    @property
    def is_production(self) -> bool:
        return self.gateway_env is Environment.PRODUCTION

    @property
    def merchant_path_prefix(self) -> str:
        """The prefix a merchant may send and sign `/v1` paths under: PUBLIC_PATH_PREFIX,
        else the seed's signing example's `/d`, so that example works unconfigured."""
        return self.public_path_prefix or SEED_PATH_PREFIX

    @property
    def database_refusal(self) -> str | None:
        """Why this database may not be used here (checked when the engine is built)."""
        sqlite = self.database_url.split(":", 1)[0].startswith("sqlite")
        if self.is_production and sqlite and not self.allow_sqlite_in_production:
            return (
                "production refuses a SQLite DATABASE_URL; use PostgreSQL, or set "
                "ALLOW_SQLITE_IN_PRODUCTION=true to accept it knowingly"
            )
        return None

    @property
    def drain_seconds(self) -> float:
        if self.shutdown_drain_seconds is not None:
            return self.shutdown_drain_seconds
        return 5.0 if self.is_production else 0.0

    @property
    def worker_in_process(self) -> bool:
        if self.run_worker_in_process is not None:
            return self.run_worker_in_process
        return not self.is_production

    @cached_property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies]


def get_settings() -> Settings:
    return Settings()
