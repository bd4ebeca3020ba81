"""The daily settlement statement every sandbox serves, and the knobs that break it.

None of the three providers documents its settlement statement, so every sandbox writes
the same CSV (docs/reconciliation.md, "Statements"), one line per movement of money:

    date,type,reference,provider_id,amount,currency,status
    2026-11-30,credit,0193…,VP1A2B…,150000.00,IDR,PAID

`type` is `credit` (a payment to one of our instruments), `debit` (a payout) or `refund`
(a payout returned); `reference` is our reference (VA trxId, QRIS partner reference,
cash-in reference_id, payout order id); `provider_id` the provider's own id for the
movement (the payment id the gateway's deposit records, or the payout id); `amount` a
decimal string in the currency's major unit; `date` the UTC day the money moved.

`GET /statements/{YYYY-MM-DD}` serves a day. `POST /control/statements/breaks`
`{"date", "kind"}` makes that day's statement disagree with the gateway in one way:
`missing_in_ledger` adds a payment the gateway never heard of, `missing_at_provider`
leaves out the first line, `amount_mismatch` adds one major unit to the (then) first
line's amount, `status_mismatch` marks the last line REVERSED. `DELETE` clears them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from typing import Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.money import exponent, format_amount
from clearing_gateway.providers.sandbox_kit import read_json

HEADER = ("date", "type", "reference", "provider_id", "amount", "currency", "status")
BREAK_KINDS = ("missing_in_ledger", "missing_at_provider", "amount_mismatch", "status_mismatch")
Movement = Literal["credit", "debit", "refund"]


@dataclass(frozen=True)
class StatementEntry:
    day: str
    type: Movement
    reference: str
    provider_id: str
    amount: int  # minor units
    currency: str
    status: str


class StatementBook:
    def __init__(self) -> None:
        self.entries: list[StatementEntry] = []
        self.breaks: dict[str, list[str]] = {}

    def record(
        self,
        movement: Movement,
        reference: str,
        provider_id: str,
        major_or_minor: int,
        currency: str,
        status: str,
        *,
        major: bool = False,
    ) -> None:
        """One movement of money, today. `major=True`: the sandbox keeps whole units."""
        amount = major_or_minor * 10 ** exponent(currency) if major else major_or_minor
        day = utcnow().date().isoformat()
        self.entries.append(
            StatementEntry(day, movement, reference, provider_id, amount, currency, status)
        )

    def lines(self, day: str) -> list[StatementEntry]:
        lines = [entry for entry in self.entries if entry.day == day]
        kinds = self.breaks.get(day, [])
        if lines and "missing_at_provider" in kinds:
            lines = lines[1:]
        if lines and "amount_mismatch" in kinds:
            first = lines[0]
            lines[0] = replace(first, amount=first.amount + 10 ** exponent(first.currency))
        if lines and "status_mismatch" in kinds:
            lines[-1] = replace(lines[-1], status="REVERSED")
        if "missing_in_ledger" in kinds:
            extra = "EXTRA" + day.replace("-", "")  # the same line each time it is served
            lines.append(StatementEntry(day, "credit", extra, extra, 1_000_000, "IDR", "PAID"))
        return lines

    def render(self, day: str) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for e in self.lines(day):
            amount = format_amount(e.amount, e.currency)
            writer.writerow(
                (e.day, e.type, e.reference, e.provider_id, amount, e.currency, e.status)
            )
        return out.getvalue()

    def routes(self) -> list[Route]:
        async def statement(request: Request) -> Response:
            day = request.path_params["day"]
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                return JSONResponse({"error": "date must be YYYY-MM-DD"}, 400)
            return Response(self.render(day), media_type="text/csv")

        async def add_break(request: Request) -> Response:
            body = await read_json(request)
            kind = body.get("kind")
            day = str(body.get("date") or utcnow().date().isoformat())
            if kind not in BREAK_KINDS:
                return JSONResponse({"error": f"kind must be one of {', '.join(BREAK_KINDS)}"}, 400)
            self.breaks.setdefault(day, []).append(kind)
            return JSONResponse({"date": day, "breaks": self.breaks[day]})

        async def clear_breaks(_request: Request) -> Response:
            self.breaks.clear()
            return JSONResponse({"breaks": {}})

        return [
            Route("/statements/{day}", statement, methods=["GET"]),
            Route("/control/statements/breaks", add_break, methods=["POST"]),
            Route("/control/statements/breaks", clear_breaks, methods=["DELETE"]),
        ]
