"""`clearing-gateway sandbox <name>`: run one provider sandbox on its own port."""

from __future__ import annotations

from typing import Annotated

import typer

from clearing_gateway.config import get_settings
from clearing_gateway.providers.config import resolve_provider_config
from clearing_gateway.providers.sandboxes import build_sandboxes

sandbox_app = typer.Typer(no_args_is_help=True, help="Run a provider sandbox on its own")

DEFAULT_PORTS = {"topremit": 9101, "finpay": 9102, "finan": 9103}


def _serve(name: str, host: str, port: int, callback_base_url: str | None) -> None:
    import uvicorn

    settings = get_settings()
    if callback_base_url:
        settings = settings.model_copy(update={"sandbox_callback_base_url": callback_base_url})
    config = resolve_provider_config(settings.model_copy(update={"gateway_env": "sandbox"}))
    sandbox = getattr(build_sandboxes(config), name)
    typer.echo(
        f"{name} sandbox on http://{host}:{port} (callbacks to "
        f"{config.sandbox_callback_base_url}/callbacks/{name}/...)",
        err=True,
    )
    uvicorn.run(sandbox.app, host=host, port=port, log_level="warning", lifespan="off")


HostOption = Annotated[str, typer.Option(help="Address to bind")]
CallbackOption = Annotated[
    str | None, typer.Option(help="Gateway base URL the callbacks go to (default PUBLIC_BASE_URL)")
]


@sandbox_app.command("topremit")
def topremit(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORTS["topremit"],
    callback_base_url: CallbackOption = None,
) -> None:
    """Topremit: access token, VAs, QRIS, signed payment callbacks."""
    _serve("topremit", host, port, callback_base_url)


@sandbox_app.command("finpay")
def finpay(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORTS["finpay"],
    callback_base_url: CallbackOption = None,
) -> None:
    """Finpay: account inquiry, transfers, check status, signed notifications."""
    _serve("finpay", host, port, callback_base_url)


@sandbox_app.command("finan")
def finan(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORTS["finan"],
    callback_base_url: CallbackOption = None,
) -> None:
    """Finan: payment requests, payouts with OTP, balance webhooks."""
    _serve("finan", host, port, callback_base_url)
