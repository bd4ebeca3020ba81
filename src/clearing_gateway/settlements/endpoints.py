"""`POST /v1/settlements/sweeps`: a merchant asks for its settled deposits now.

Allowed when an operator has set the merchant's settlement to `on_demand` or `scheduled`
(docs/settlement.md); the sweep is the same one transfer an operator's would be. The
`requestId` makes a retry replay the first answer (the idempotency middleware), so one
request never sweeps twice.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, SessionDep
from clearing_gateway.kit.clock import isoformat
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.errors import ErrorCode, GatewayError
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.schemas import documented
from clearing_gateway.settlements import service
from clearing_gateway.settlements.schemas import SweepOut, SweepRequest, sweep_out

router = APIRouter(prefix="/v1/settlements", tags=["Balances"])


@router.post(
    "/sweeps",
    status_code=201,
    responses=documented(SweepOut, 201),
    summary="Sweep Settled Deposits",
    description=(
        "Move what has settled in the merchant's deposit vaults (by its settlement delay, "
        "T+0, T+1, …) into its withdrawal vault now, as one ledger transfer; each vault "
        "debited is announced by a `debit_notify` webhook. `409 CONFLICT` when settlement "
        "is off for the merchant (an operator sets it). `swept: false` when nothing has "
        "settled yet."
    ),
)
async def sweep(body: SweepRequest, session: SessionDep, merchant: MerchantDep) -> Response:
    policy = await service.policy_of(session, merchant.id)
    if policy is None or policy.mode == service.Mode.OFF:
        raise GatewayError(
            409, ErrorCode.CONFLICT, "settlement is off for this merchant; ask the operator"
        )
    outcome = await service.sweep(
        session,
        merchant.id,
        sweep_key=f"api:{new_id()}",
        trigger=service.Trigger.ON_DEMAND,
        note="Settlement on request",
    )
    data = sweep_out(
        outcome.sweep,
        currency=policy.currency,
        target_provider=policy.target_provider,
        delay_days=policy.delay_days,
        cutoff=isoformat(outcome.cutoff) or "",
    )
    return EnvelopeResponse(data, code=201, request_id=body.requestId)
