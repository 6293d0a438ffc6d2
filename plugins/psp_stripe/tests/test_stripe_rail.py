"""The Stripe payout rail against the simulator over HTTP: a payout becomes one transfer to the
trader's connected account however often it is paid, whatever answers get lost; refusals and
outages map onto the contract's errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from propdesk.payouts.contract import (
    PayoutInstruction,
    PayoutRail,
    PayoutRefused,
    PayoutUnavailable,
)
from propdesk_psp_stripe.rail import StripeTransfers
from propdesk_psp_stripe.simulator import RunningSimulator

KEY_ENV = "PROPDESK_TEST_STRIPE_KEY"

# The SDK's HTTPXClient posts bytes with httpx's deprecated ``data=``.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

MakeRail = Callable[..., StripeTransfers]


@pytest.fixture
async def make_rail(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MakeRail]:
    """Rails on the simulator; ``retries`` is the SDK's max_network_retries (0: one try)."""
    monkeypatch.setenv(KEY_ENV, sim.secret_key)
    made: list[StripeTransfers] = []

    def make(retries: int = 0) -> StripeTransfers:
        settings = {"api_key": {"env": KEY_ENV}, "webhook_secret": {"env": KEY_ENV}}
        rail = StripeTransfers(settings | {"api_base": sim.url, "max_network_retries": retries})
        made.append(rail)
        return rail

    yield make
    for rail in made:
        await rail.close()


@pytest.fixture
async def account(sim: RunningSimulator) -> str:
    return await sim.control.add_connected_account(email="ana@traders.example")


def payout(number: int, account: str, amount: str = "1250.50") -> PayoutInstruction:
    return PayoutInstruction(
        reference=f"payout:{number}",
        idempotency_key=f"payout:{number}:pay",
        amount=Decimal(amount),
        currency="USD",
        trader_email="ana@traders.example",
        trader_name="Ana Trader",
        destination={"account": account},
        description="Profit split, May",
    )


async def count(sim: RunningSimulator, reference: str) -> int:
    return len(await sim.control.transfers(payout_reference=reference))


async def test_it_is_a_payout_rail_whose_destination_is_a_connected_account() -> None:
    rail = StripeTransfers({"api_key": {"env": "X"}, "webhook_secret": {"env": "Y"}})
    assert isinstance(rail, PayoutRail)
    assert (rail.code, rail.display_name) == ("stripe", "Stripe Connect transfers")
    validator = Draft202012Validator(StripeTransfers.destination_schema)
    assert validator.is_valid({"account": "acct_1PqR2sT3uV4w"})
    for wrong in ({}, {"account": "ba_123"}, {"account": "acct_"}, {"account": "acct_1 x"},
                  {"account": "acct_1", "iban": "DE89"}, {"account": 7}):  # fmt: skip
        assert not validator.is_valid(wrong), wrong


async def test_a_payout_is_paid_by_one_transfer(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = await make_rail().pay(payout(1, account))
    assert result.status == "paid" and not result.replayed
    assert result.rail_reference is not None and result.rail_reference.startswith("tr_")
    assert result.at >= before and result.at.tzinfo is UTC
    [transfer] = await sim.control.transfers(payout_reference="payout:1")
    assert transfer["id"] == result.rail_reference
    assert (transfer["amount"], transfer["currency"]) == (125050, "usd")
    assert (transfer["destination"], transfer["transfer_group"]) == (account, "payout:1")
    assert transfer["description"] == "Profit split, May"
    [sent] = [r for r in await sim.control.requests("/v1/transfers") if r["method"] == "POST"]
    assert sent["idempotency_key"] == "payout:1:pay"


async def test_paying_again_returns_the_same_transfer(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    first = await make_rail().pay(payout(2, account))
    again = await make_rail().pay(payout(2, account))  # another worker, the same instruction
    assert again.rail_reference == first.rail_reference and again.replayed
    assert await count(sim, "payout:2") == 1
    summary = await sim.control.transfer_summary()
    assert summary["payout:2"]["count"] == 1 and summary["payout:2"]["amounts"] == {"usd": 125050}


async def test_the_idempotency_key_alone_prevents_a_second_transfer(
    sim: RunningSimulator, make_rail: MakeRail, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rail = make_rail()
    first = await rail.pay(payout(3, account))

    # The lookup misses (as if listing lagged): the key replays the first answer.
    async def nothing(reference: str) -> None:
        return None

    monkeypatch.setattr(rail, "_made_for", nothing)
    again = await rail.pay(payout(3, account))
    assert again.rail_reference == first.rail_reference and again.replayed
    assert await count(sim, "payout:3") == 1


async def test_a_lost_answer_then_a_retry_pays_once(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    await sim.control.add_fault("/v1/transfers", method="POST", drop=True)
    rail = make_rail()
    with pytest.raises(PayoutUnavailable):
        await rail.pay(payout(4, account))
    assert await count(sim, "payout:4") == 1  # the transfer was made; its answer was lost
    result = await rail.pay(payout(4, account))
    assert result.replayed and await count(sim, "payout:4") == 1
    [made] = await sim.control.transfers(payout_reference="payout:4")
    assert result.rail_reference == made["id"]


async def test_the_sdk_retries_a_lost_answer_with_the_same_key(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    await sim.control.add_fault("/v1/transfers", method="POST", drop=True)
    result = await make_rail(retries=1).pay(payout(5, account))
    assert result.replayed and await count(sim, "payout:5") == 1
    posts = [r for r in await sim.control.requests("/v1/transfers") if r["method"] == "POST"]
    assert [(r["dropped"], r["replayed"]) for r in posts] == [(True, False), (False, True)]


async def test_a_saved_500_does_not_hide_the_transfer(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    # Applied, then answered 500 and kept under the key: only the lookup sees the transfer.
    await sim.control.add_fault("/v1/transfers", method="POST", status=500)
    rail = make_rail()
    with pytest.raises(PayoutUnavailable):
        await rail.pay(payout(6, account))
    result = await rail.pay(payout(6, account))
    assert result.replayed and await count(sim, "payout:6") == 1


async def test_an_outage_is_unavailable_and_pays_nothing(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    await sim.control.add_fault("/v1/transfers", method="POST", status=503, apply=False)
    rail = make_rail()
    with pytest.raises(PayoutUnavailable) as caught:
        await rail.pay(payout(7, account))
    assert caught.value.provider_code == "api_error"
    assert await count(sim, "payout:7") == 0
    result = await rail.pay(payout(7, account))  # the key was not kept: this one pays
    assert not result.replayed and await count(sim, "payout:7") == 1


async def test_rate_limits_and_unreachable_stripe_are_unavailable(
    sim: RunningSimulator, make_rail: MakeRail, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sim.control.add_fault("/v1/transfers", method="GET", status=429)
    with pytest.raises(PayoutUnavailable):
        await make_rail().pay(payout(8, account))
    monkeypatch.setenv(KEY_ENV, sim.secret_key)
    away = StripeTransfers(
        {"api_key": {"env": KEY_ENV}, "api_base": "http://127.0.0.1:9", "max_network_retries": 0}
    )
    try:
        with pytest.raises(PayoutUnavailable):
            await away.pay(payout(8, account))
    finally:
        await away.close()
    assert await count(sim, "payout:8") == 0


async def test_an_unknown_account_is_refused(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    with pytest.raises(PayoutRefused) as caught:
        await make_rail().pay(payout(9, "acct_nobodyhere"))
    assert caught.value.provider_code == "account_invalid"
    with pytest.raises(PayoutRefused) as shape:
        await make_rail().pay(payout(9, "ba_1234"))
    assert shape.value.provider_code == "destination_invalid"
    assert await sim.control.transfers() == []


async def test_insufficient_balance_is_refused(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    await sim.control.set_balance(100_000)
    with pytest.raises(PayoutRefused) as caught:
        await make_rail().pay(payout(10, account, amount="1000.01"))
    assert caught.value.provider_code == "balance_insufficient"
    assert await sim.control.transfers() == []
    paid = await make_rail().pay(payout(11, account, amount="1000.00"))
    assert paid.status == "paid"
    assert (await sim.control.balance())["available"]["usd"] == 0


async def test_amounts_finer_than_the_currency_are_refused(
    make_rail: MakeRail, account: str
) -> None:
    with pytest.raises(PayoutRefused) as caught:
        await make_rail().pay(payout(12, account, amount="10.005"))
    assert caught.value.provider_code == "amount_invalid"


async def test_a_transfer_for_the_reference_that_differs_is_refused(
    sim: RunningSimulator, make_rail: MakeRail, account: str
) -> None:
    await make_rail().pay(payout(13, account))
    changed = payout(13, account, amount="99.00")
    with pytest.raises(PayoutRefused) as caught:
        await make_rail().pay(changed)
    assert caught.value.provider_code == "transfer_mismatch"
    assert await count(sim, "payout:13") == 1
