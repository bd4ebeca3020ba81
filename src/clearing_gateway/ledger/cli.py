"""Operator commands: `clearing-gateway ledger …`.

Top-ups record money a merchant placed with a provider; transfers move it between the
merchant's vaults; `verify` re-derives every balance from history.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.config import get_settings
from clearing_gateway.crosscheck.service import provider_balances, verify_all
from clearing_gateway.debits import service as debits
from clearing_gateway.debits.schemas import DebitType
from clearing_gateway.kit.cli import fail, run_in_transaction
from clearing_gateway.kit.metrics import record_ledger_verification
from clearing_gateway.kit.money import DEFAULT_CURRENCY, AmountError, format_amount, parse_amount
from clearing_gateway.ledger import fees, service
from clearing_gateway.ledger.accounts import PROVIDERS, VAULTS, AccountKey, Posting
from clearing_gateway.ledger.errors import LedgerError
from clearing_gateway.ledger.fees import FeeScheduleError
from clearing_gateway.ledger.verify import Finding

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="Ledger: top-ups, transfers, balances, fees")
fees_app = typer.Typer(no_args_is_help=True, help="Fee schedule per (provider, method)")
app.add_typer(fees_app, name="fees")

MerchantOpt = Annotated[str, typer.Option("--merchant", help="Merchant id")]
ProviderOpt = Annotated[str, typer.Option("--provider", help=f"One of {', '.join(PROVIDERS)}")]
AmountOpt = Annotated[str, typer.Option("--amount", help='Decimal amount, e.g. "1000000.00"')]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why (kept on the transfer)")]
IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id", help="Transfer id (required); re-running with the same id changes nothing"
    ),
]
CurrencyOpt = Annotated[str, typer.Option("--currency", help="ISO 4217 code")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON")]


def _merchant(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"not a valid merchant id: {value!r}")


def _amount(value: str, currency: str) -> int:
    try:
        return parse_amount(value, currency)
    except AmountError as exc:
        fail(f"--amount {exc}")


def _vault(merchant_id: uuid.UUID, provider: str, vault: str, currency: str) -> AccountKey:
    try:
        return AccountKey.vault(merchant_id, provider, vault, currency)
    except ValueError as exc:
        fail(str(exc))


def _required_id(transfer_id: str | None) -> str:
    """A manual movement is idempotent: the operator names it, so a re-run (a retried
    command, a pasted line run twice) finds the first one instead of moving money again."""
    if transfer_id is None or not transfer_id.strip():
        fail("--id is required: re-running a command with the same id changes nothing")
    return transfer_id.strip()


def _post(
    transfer_id: str,
    posting: Posting,
    kind: str,
    note: str | None,
    debit_type: DebitType | None = None,
) -> dict[str, Any]:
    async def work(session: AsyncSession) -> dict[str, Any]:
        transfer = await service.post(session, transfer_id, [posting], kind=kind, note=note)
        announced: list[str] = []
        if debit_type is not None:
            # A merchant vault lost money other than by a withdrawal: the merchant is told
            # (debit_notify) in this same transaction; a re-run announces nothing again.
            recorded = await debits.record_transfer_debits(session, transfer, debit_type, note)
            announced = [str(d.id) for d in recorded]
        balances = [
            await service.account_balance(session, k) for k in (posting.debit, posting.credit)
        ]
        currency = transfer.currency
        return {
            "transferId": transfer.id,
            "kind": transfer.kind,
            "status": transfer.status,
            "amount": format_amount(transfer.amount, currency),
            "currency": currency,
            "note": transfer.note,
            **({"debitNotify": announced} if debit_type is not None else {}),
            "balances": {
                b.key.code: format_amount(b.available, currency)
                for b in balances
                if b.key.must_not_go_negative
            },
        }

    try:
        return run_in_transaction(work)
    except LedgerError as exc:
        fail(exc.reason)


@app.command("top-up")
def top_up(
    merchant: MerchantOpt,
    provider: ProviderOpt,
    vault: Annotated[str, typer.Option("--vault", help=f"One of {', '.join(VAULTS)}")],
    amount: AmountOpt,
    note: NoteOpt = None,
    currency: CurrencyOpt = DEFAULT_CURRENCY,
    transfer_id: IdOpt = None,
) -> None:
    """Record funds a merchant placed with a provider (provider clearing → vault)."""
    merchant_id = _merchant(merchant)
    key = _vault(merchant_id, provider, vault, currency)
    posting = Posting(AccountKey.clearing(provider, currency), key, _amount(amount, currency))
    result = _post(_required_id(transfer_id), posting, "top_up", note)
    typer.echo(json.dumps(result))


@app.command("transfer")
def transfer(
    merchant: MerchantOpt,
    provider: ProviderOpt,
    amount: AmountOpt,
    source: Annotated[str, typer.Option("--from", help="Vault to take from")] = "deposit",
    target: Annotated[str, typer.Option("--to", help="Vault to put into")] = "withdrawal",
    note: NoteOpt = None,
    currency: CurrencyOpt = DEFAULT_CURRENCY,
    transfer_id: IdOpt = None,
) -> None:
    """Move funds between a merchant's vaults at one provider (refused if short)."""
    merchant_id = _merchant(merchant)
    debit = _vault(merchant_id, provider, source, currency)
    credit = _vault(merchant_id, provider, target, currency)
    if debit == credit:
        fail("--from and --to must be different vaults")
    posting = Posting(debit, credit, _amount(amount, currency))
    result = _post(_required_id(transfer_id), posting, "vault_transfer", note, DebitType.ADJUSTMENT)
    typer.echo(json.dumps(result))


# What a `ledger debit` is, and where the money goes.
_DEBIT_TYPES = {
    "fee": (DebitType.FEE, "fee"),
    "adjustment": (DebitType.ADJUSTMENT, "adjustment"),
    "cashout": (DebitType.CASHOUT, "cashout"),
}


@app.command("debit")
def debit_command(
    merchant: MerchantOpt,
    provider: ProviderOpt,
    vault: Annotated[str, typer.Option("--vault", help=f"One of {', '.join(VAULTS)}")],
    amount: AmountOpt,
    debit_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="fee (to fee revenue), adjustment or cashout (back to provider clearing)",
        ),
    ],
    note: NoteOpt = None,
    currency: CurrencyOpt = DEFAULT_CURRENCY,
    transfer_id: IdOpt = None,
) -> None:
    """Take money from a merchant vault other than by a withdrawal (a fee charged on its
    own, a correction, a provider cash-out made outside the API); the merchant gets a
    debit_notify webhook. Refused if the vault is short."""
    if debit_type not in _DEBIT_TYPES:
        fail(f"--type must be one of {', '.join(_DEBIT_TYPES)}")
    kind, transfer_kind = _DEBIT_TYPES[debit_type]
    merchant_id = _merchant(merchant)
    source = _vault(merchant_id, provider, vault, currency)
    target = (
        AccountKey.fee_revenue(provider, currency)
        if kind is DebitType.FEE
        else AccountKey.clearing(provider, currency)
    )
    posting = Posting(source, target, _amount(amount, currency))
    result = _post(_required_id(transfer_id), posting, transfer_kind, note, kind)
    typer.echo(json.dumps(result))


@app.command("balances")
def balances(
    merchant: Annotated[str | None, typer.Option("--merchant", help="Only this merchant")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every account (or one merchant's vaults) with available, pending and posted."""
    merchant_id = _merchant(merchant) if merchant else None
    rows = [
        {
            "account": b.key.code,
            "currency": b.key.currency,
            "available": format_amount(b.available, b.key.currency),
            "pending": format_amount(b.debits_pending, b.key.currency),
            "incoming": format_amount(b.credits_pending, b.key.currency),
            "posted": format_amount(b.posted, b.key.currency),
            "version": b.version,
        }
        for b in run_in_transaction(lambda s: service.all_balances(s, merchant_id))
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no accounts")
        return
    typer.echo(f"{'account':<80} {'available':>18} {'pending':>16} {'posted':>18}")
    for row in rows:
        typer.echo(
            f"{row['account']:<80} {row['available']:>18} {row['pending']:>16} {row['posted']:>18}"
        )


@app.command("verify")
def verify_command(
    provider_balance: Annotated[
        list[str] | None,
        typer.Option(
            "--provider-balance",
            help="Also compare provider clearing with the balance this provider reports "
            "(finpay); meaningful when nothing is in flight",
        ),
    ] = None,
) -> None:
    """Recompute every balance from its entries and check every invariant, then check
    every deposit and withdrawal against the ledger."""

    async def work(session: AsyncSession) -> list[Finding]:
        findings = await verify_all(session)
        if provider_balance:
            findings += await provider_balances(session, get_settings(), provider_balance)
        return findings

    findings = run_in_transaction(work)
    record_ledger_verification(len(findings))
    for finding in findings:
        typer.echo(str(finding))
    if findings:
        typer.echo(f"ledger verify: {len(findings)} problem(s) found", err=True)
        raise typer.Exit(code=2)
    typer.echo("ledger verify: all balances match their entries; every check passed")


@fees_app.command("set")
def fees_set(
    provider: ProviderOpt,
    method: Annotated[str, typer.Option("--method", help="e.g. va, qris, disbursement")],
    flat: Annotated[str, typer.Option("--flat", help='Flat fee, e.g. "2500.00"')] = "0",
    bps: Annotated[int, typer.Option("--bps", help="Percent in basis points (70 = 0.70%)")] = 0,
    currency: CurrencyOpt = DEFAULT_CURRENCY,
) -> None:
    """Set the fee for (provider, method): flat + percent, percent rounded half-up."""
    try:
        flat_minor = parse_amount(flat, currency, positive=False)
    except AmountError as exc:
        fail(f"--flat {exc}")
    try:
        fee = run_in_transaction(
            lambda s: fees.set_fee(s, provider, method, flat=flat_minor, percent_bps=bps)
        )
    except FeeScheduleError as exc:
        fail(str(exc))
    typer.echo(json.dumps(_fee_json(fee, currency)))


@fees_app.command("list")
def fees_list(as_json: JsonOpt = False, currency: CurrencyOpt = DEFAULT_CURRENCY) -> None:
    """The whole fee schedule."""
    rows = [_fee_json(fee, currency) for fee in run_in_transaction(fees.list_fees)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no fees set (every method is free)")
    for row in rows:
        typer.echo(
            f"{row['provider']:<10} {row['method']:<14} flat {row['flat']:>12}  "
            f"+ {row['percentBps']} bp (half-up)"
        )


def _fee_json(fee: fees.Fee, currency: str) -> dict[str, Any]:
    return {
        "provider": fee.provider,
        "method": fee.method,
        "flat": format_amount(fee.flat, currency),
        "percentBps": fee.percent_bps,
    }
