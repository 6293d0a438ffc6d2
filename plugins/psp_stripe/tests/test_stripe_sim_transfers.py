"""Connect in the simulator: connected accounts, the platform balance, ``/v1/transfers``
(create, retrieve, list and filter, idempotency, Stripe's refusals), transfer.created
webhooks, the control API's transfer counts, and the faults that apply or lose a transfer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from stripe_simkit import Receiver

from propdesk_psp_stripe.simulator import RunningSimulator, Simulator, SimulatorConfig
from propdesk_psp_stripe.simulator.__main__ import parse_args


def transfer_params(account: str, group: str = "payout:1", amount: int = 5000) -> Any:
    return {
        "amount": amount,
        "currency": "usd",
        "destination": account,
        "transfer_group": group,
        "description": "Profit split",
        "metadata": {"payout_reference": group},
    }


@pytest.fixture
async def account(sim: RunningSimulator) -> str:
    return await sim.control.add_connected_account()


async def test_a_transfer_and_its_views(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    made = client.v1.transfers.create(params=transfer_params(account))
    assert made.id.startswith("tr_") and made.object == "transfer"
    assert (made.amount, made.currency, made.destination) == (5000, "usd", account)
    assert (made.transfer_group, made.metadata.to_dict()) == (
        "payout:1",
        {"payout_reference": "payout:1"},
    )
    assert (made.reversed, made.amount_reversed, made.livemode) == (False, 0, False)
    assert client.v1.transfers.retrieve(made.id).to_dict() == made.to_dict()
    expanded = client.v1.transfers.retrieve(made.id, params={"expand": ["destination"]})
    assert expanded.destination.id == account
    assert client.v1.accounts.retrieve(account).object == "account"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.retrieve("tr_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


async def test_list_filters_by_transfer_group_and_destination(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    other = await sim.control.add_connected_account("acct_Other42")
    assert other == "acct_Other42"
    made = [
        client.v1.transfers.create(params=transfer_params(account, "payout:1")),
        client.v1.transfers.create(params=transfer_params(account, "payout:2")),
        client.v1.transfers.create(params=transfer_params(other, "payout:2")),
    ]
    listed = client.v1.transfers.list()
    assert [t.id for t in listed.data] == [t.id for t in reversed(made)]
    group = client.v1.transfers.list(params={"transfer_group": "payout:2"})
    assert [t.id for t in group.data] == [made[2].id, made[1].id]
    page = client.v1.transfers.list(params={"transfer_group": "payout:2", "limit": 1})
    assert [t.id for t in page.data] == [made[2].id] and page.has_more
    theirs = client.v1.transfers.list(params={"destination": other})
    assert [t.id for t in theirs.data] == [made[2].id]
    assert client.v1.transfers.list(params={"transfer_group": "payout:9"}).data == []


async def test_idempotent_replay_and_conflict(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "payout:1:pay"}
    first = client.v1.transfers.create(params=transfer_params(account), options=options)
    again = client.v1.transfers.create(params=transfer_params(account), options=options)
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["idempotent-replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.transfers.create(params=transfer_params(account, amount=6000), options=options)
    assert caught.value.http_status == 400
    assert caught.value.error is not None and caught.value.error.type == "idempotency_error"
    assert len(await sim.control.transfers()) == 1


async def test_an_unknown_destination_is_account_invalid_and_not_kept(
    sim: RunningSimulator, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "payout:7:pay"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params=transfer_params("acct_Later7"), options=options)
    error = caught.value
    assert (error.http_status, error.code, error.param) == (400, "account_invalid", "destination")
    assert error.error is not None and error.error.type == "invalid_request_error"
    await sim.control.add_connected_account("acct_Later7")
    made = client.v1.transfers.create(params=transfer_params("acct_Later7"), options=options)
    assert made.destination == "acct_Later7"


async def test_the_balance_bounds_transfers(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    await sim.control.set_balance(7000)
    client.v1.transfers.create(params=transfer_params(account, "payout:1"))
    options: stripe.RequestOptions = {"idempotency_key": "payout:2:pay"}
    for _ in range(2):  # the refusal is kept under the key, as Stripe keeps executed requests
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.transfers.create(params=transfer_params(account, "payout:2"), options=options)
        assert (caught.value.http_status, caught.value.code) == (400, "balance_insufficient")
    balance = client.v1.balance.retrieve()
    assert [(b.currency, b.amount) for b in balance.available] == [("usd", 2000)]
    assert (await sim.control.balance())["available"] == {"usd": 2000}
    euros = client.v1.transfers.create(
        params=transfer_params(account, "payout:3") | {"currency": "eur"}
    )
    assert euros.currency == "eur"  # another currency draws on its own (default) balance


async def test_invalid_requests(client: stripe.StripeClient, account: str) -> None:
    for bad, param in (
        ({"amount": 0}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"bogus": "1"}, "bogus"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.transfers.create(params=transfer_params(account) | bad)
        assert caught.value.param == param
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create(params={"amount": 100, "currency": "usd"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "destination")


async def test_transfer_created_is_sent(
    sim: RunningSimulator, client: stripe.StripeClient, hooked: Receiver, account: str
) -> None:
    made = client.v1.transfers.create(
        params=transfer_params(account), options={"idempotency_key": "payout:1:pay"}
    )
    [received] = hooked.wait_for(1)
    event = received.event(sim.webhook_secret)
    assert event.type == "transfer.created" and event.data.object.id == made.id
    assert event.request is not None and event.request.idempotency_key == "payout:1:pay"


async def test_control_counts_transfers_by_payout(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    client.v1.transfers.create(params=transfer_params(account, "payout:1", 1000))
    client.v1.transfers.create(params=transfer_params(account, "payout:1", 2000))
    client.v1.transfers.create(params=transfer_params(account, "payout:2", 500))
    client.v1.transfers.create(params={"amount": 1, "currency": "usd", "destination": account})
    by_payout = await sim.control.transfer_summary()
    assert {k: (v["count"], v["amounts"]) for k, v in by_payout.items()} == {
        "payout:1": (2, {"usd": 3000}),
        "payout:2": (1, {"usd": 500}),
        "": (1, {"usd": 1}),
    }
    by_group = await sim.control.transfer_summary(by="transfer_group")
    assert by_group["payout:1"]["ids"] == [
        t["id"] for t in await sim.control.transfers(transfer_group="payout:1")
    ]
    assert len(await sim.control.transfers(destination=account)) == 4
    with pytest.raises(httpx.HTTPStatusError):
        await sim.control.transfer_summary(by="amount")


async def test_connected_accounts_from_control_and_config(sim: RunningSimulator) -> None:
    made = await sim.control.add_connected_account(email="ana@traders.example")
    assert made.startswith("acct_")
    assert await sim.control.add_connected_account(made) == made  # known: kept
    accounts = await sim.control.connected_accounts()
    assert [(a["id"], a["email"]) for a in accounts] == [(made, "ana@traders.example")]
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await sim.control.add_connected_account("ba_123")
    assert caught.value.response.status_code == 400
    configured = Simulator(SimulatorConfig(connected_accounts=("acct_Fixed1",)))
    configured.reset()
    assert configured.store.get("account", "acct_Fixed1") is not None
    config = parse_args(["--connected-account", "acct_A1", "--connected-account", "acct_B2"])
    assert config.connected_accounts == ("acct_A1", "acct_B2")


async def test_faults_that_apply_or_lose_a_transfer(
    sim: RunningSimulator, client: stripe.StripeClient, account: str
) -> None:
    control = sim.control
    await control.add_fault("/v1/transfers", method="POST", drop=True, apply=False)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.transfers.create(params=transfer_params(account))
    assert await control.transfers() == []  # lost on the way in
    await control.add_fault("/v1/transfers", method="POST", drop=True)
    options: stripe.RequestOptions = {"idempotency_key": "payout:1:pay"}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.transfers.create(params=transfer_params(account), options=options)
    [made] = await control.transfers()  # made; its answer lost on the way back
    again = client.v1.transfers.create(params=transfer_params(account), options=options)
    assert again.id == made["id"]
    await control.add_fault("/v1/transfers", method="POST", status=503, apply=False)
    with pytest.raises(stripe.APIError) as outage:
        client.v1.transfers.create(params=transfer_params(account, "payout:2"), options=options)
    assert outage.value.http_status == 503
    assert len(await control.transfers()) == 1
    log = [r for r in await control.requests("/v1/transfers") if r["method"] == "POST"]
    assert [(r["status"], r["dropped"], r["replayed"]) for r in log] == [
        (0, True, False),
        (200, True, False),
        (200, False, True),
        (503, False, False),
    ]
    with pytest.raises(httpx.HTTPStatusError):
        await control.add_fault("/v1/transfers", apply=False)  # nothing to do before it runs
