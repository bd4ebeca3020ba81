"""`clearing-gateway sandbox <name>`: run one provider sandbox on its own port."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.config import get_settings
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.config import resolve_provider_config
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.providers.replay import ReplayRefused, replay_stored
from clearing_gateway.providers.repository import InboxRepository
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


# --- the callback inbox ------------------------------------------------------------------

callbacks_app = typer.Typer(no_args_is_help=True, help="Provider callbacks: the inbox")
_HIDDEN_HEADERS = ("authorization",)


def callback_out(row: ProviderCallback, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "callbackId": str(row.id),
        "provider": row.provider,
        "channel": row.channel,
        "status": row.status,
        "eventType": row.event_type,
        "eventKey": row.event_key,
        "error": row.error,
        "attempts": row.attempts,
        "source": row.source,
        "bodySize": row.body_size,
        "receivedAt": row.received_at.isoformat(),
        "processedAt": row.processed_at.isoformat() if row.processed_at else None,
    }
    if full:
        out["path"] = row.path
        out["bodySha256"] = row.body_sha256
        out["headers"] = {
            k: ("[redacted]" if k.lower() in _HIDDEN_HEADERS else v) for k, v in row.headers.items()
        }
        out["body"] = row.body.decode("utf-8", "replace") if row.body else None
    return out


@callbacks_app.command("list")
def callbacks_list(
    provider: Annotated[str | None, typer.Option(help="topremit, finpay or finan")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="received, rejected, verified, applied, duplicate or ignored"),
    ] = None,
    since_minutes: Annotated[
        float | None, typer.Option(help="Only callbacks received in the last N minutes")
    ] = None,
    event_key: Annotated[str | None, typer.Option(help="Only this provider event key")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Stored provider callbacks, newest first."""
    since = utcnow() - dt.timedelta(minutes=since_minutes) if since_minutes else None

    async def _list(session: AsyncSession) -> list[dict[str, Any]]:
        found = await InboxRepository(session).list(
            provider=provider, status=status, limit=limit, since=since, event_key=event_key
        )
        return [callback_out(row) for row in found]

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no callbacks")
    for row in rows:
        error = f"  {row['error'][:100]}" if row["error"] else ""
        typer.echo(
            f"{row['callbackId']}  {row['receivedAt']}  {row['provider']}/{row['channel']}  "
            f"{row['status']}  {row['eventKey'] or '-'}{error}"
        )


@callbacks_app.command("show")
def callbacks_show(callback_id: Annotated[str, typer.Argument(help="Callback id")]) -> None:
    """One callback with its headers and body (rejected ones keep no body), as JSON."""
    parsed = parse_id(callback_id, "callback id")
    row = run_in_transaction(lambda s: InboxRepository(s).get(parsed))
    if row is None:
        fail(f"no callback {parsed}")
    typer.echo(json.dumps(callback_out(row, full=True), indent=2))


@callbacks_app.command("replay")
def callbacks_replay(callback_id: Annotated[str, typer.Argument(help="Callback id")]) -> None:
    """Verify, confirm with the provider and apply a stored callback again (one left
    `received` after a provider outage or a handler error). Its timestamp is checked
    against the moment it arrived; an event applied already comes out `duplicate`."""
    from clearing_gateway.app import run_with_runtime
    from clearing_gateway.handlers import load_callback_handlers

    parsed = parse_id(callback_id, "callback id")
    load_callback_handlers()

    async def _replay(runtime: Runtime) -> tuple[str, str]:
        return await replay_stored(runtime, parsed)

    try:
        before, after = run_with_runtime(_replay)
    except ReplayRefused as refused:
        fail(str(refused))
    typer.echo(f"callback {parsed}: {before} -> {after}")
    if after == CallbackStatus.RECEIVED:
        raise typer.Exit(code=1)
