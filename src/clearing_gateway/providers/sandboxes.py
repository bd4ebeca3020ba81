"""Building the three sandboxes, mounted in the gateway or served alone."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from clearing_gateway.providers.config import ProviderConfig
from clearing_gateway.providers.finan.sandbox import FinanSandbox, FinanSandboxConfig
from clearing_gateway.providers.finpay.sandbox import FinpaySandbox, FinpaySandboxConfig
from clearing_gateway.providers.topremit.sandbox import TopremitSandbox, TopremitSandboxConfig

SANDBOX_NAMES = ("topremit", "finpay", "finan")


@dataclass
class Sandboxes:
    topremit: TopremitSandbox
    finpay: FinpaySandbox
    finan: FinanSandbox

    def all(self) -> list[TopremitSandbox | FinpaySandbox | FinanSandbox]:
        return [self.topremit, self.finpay, self.finan]

    async def aclose(self) -> None:
        for sandbox in self.all():
            await sandbox.aclose()


def build_sandboxes(config: ProviderConfig) -> Sandboxes:
    """Sandboxes that accept exactly the credentials the gateway's connectors use."""
    callback_base = config.sandbox_callback_base_url
    return Sandboxes(
        topremit=TopremitSandbox(
            TopremitSandboxConfig(
                client_id=config.topremit.client_id,
                partner_id=config.topremit.partner_id,
                client_secret=config.topremit.client_secret,
                partner_service_id=config.topremit.partner_service_id,
                callback_base_url=callback_base,
                signature_encoding=config.topremit.signature_encoding,
                callback_secret=config.topremit.callback_secret,
                window_seconds=config.topremit.callback_window_seconds,
                retry_schedule=config.sandbox_retry_schedules.get("topremit", ()),
                late_callback_seconds=config.sandbox_magic_delay_seconds,
            )
        ),
        finpay=FinpaySandbox(
            FinpaySandboxConfig(
                merchant_id=config.finpay.merchant_id,
                merchant_key=config.finpay.merchant_key,
                callback_base_url=callback_base,
                settle_delay_seconds=config.sandbox_settle_delay_seconds,
                signature_field=config.finpay.signature_field,
                intermediate_statuses=config.sandbox_finpay_intermediate_statuses,
                retry_schedule=config.sandbox_retry_schedules.get("finpay", ()),
                pending_seconds=config.sandbox_magic_delay_seconds,
            )
        ),
        finan=FinanSandbox(
            FinanSandboxConfig(
                client_id=config.finan.client_id,
                secret_key=config.finan.secret_key,
                account_id=config.finan.account_id,
                pass_code=config.finan.payout_pass_code,
                callback_base_url=callback_base,
                settle_delay_seconds=config.sandbox_settle_delay_seconds,
                retry_schedule=config.sandbox_retry_schedules.get("finan", ()),
                pending_seconds=config.sandbox_magic_delay_seconds,
            )
        ),
    )


def mount_sandboxes(app: FastAPI, sandboxes: Sandboxes) -> None:
    app.mount("/sandbox/topremit", sandboxes.topremit.app)
    app.mount("/sandbox/finpay", sandboxes.finpay.app)
    app.mount("/sandbox/finan", sandboxes.finan.app)
