"""Fee arithmetic: flat + percent (basis points), percent rounded half-up, capped."""

from __future__ import annotations

import pytest

from clearing_gateway.ledger import fees
from tests.ledger.conftest import Books


async def test_fee_for_uses_the_schedule(books: Books) -> None:
    assert await books.run(lambda s: fees.fee_for(s, "topremit", "va", 1_000_000)) == 0
    await books.run(lambda s: fees.set_fee(s, "topremit", "va", flat=250_000, percent_bps=70))
    # 10 000.00 IDR: 2 500.00 flat + 0.70 % = 70.00
    assert await books.run(lambda s: fees.fee_for(s, "topremit", "va", 1_000_000)) == 257_000
    # A fee never exceeds the amount it is charged on.
    assert await books.run(lambda s: fees.fee_for(s, "topremit", "va", 100)) == 100
    await books.run(lambda s: fees.set_fee(s, "topremit", "va", flat=0, percent_bps=25))
    assert await books.run(lambda s: fees.fee_for(s, "topremit", "va", 1_000_000)) == 2_500
    assert await books.run(lambda s: fees.fee_for(s, "topremit", "qris", 1_000_000)) == 0


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [(150, 100, 2), (149, 100, 1), (250, 100, 3), (1, 5_000, 1), (3, 3_333, 1), (0, 70, 0)],
)
def test_percent_rounds_half_up_on_the_minor_unit(amount: int, bps: int, fee: int) -> None:
    assert fees.Fee("finpay", "payout", 0, bps).on(amount) == fee


async def test_bad_schedules_are_refused(books: Books) -> None:
    with pytest.raises(fees.FeeScheduleError):
        await books.run(lambda s: fees.set_fee(s, "nobody", "va", flat=0, percent_bps=0))
    with pytest.raises(fees.FeeScheduleError):
        await books.run(lambda s: fees.set_fee(s, "finan", "va", flat=-1, percent_bps=0))
    with pytest.raises(fees.FeeScheduleError):
        await books.run(lambda s: fees.set_fee(s, "finan", "va", flat=0, percent_bps=-1))
    assert await books.run(fees.list_fees) == []
