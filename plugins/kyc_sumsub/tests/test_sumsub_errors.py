"""Authentication as the simulator enforces it, error answers in Sumsub's shape, and the
client's typed errors and retries."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from sumsubkit import LEVEL

from propdesk_kyc_sumsub import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    RateLimited,
    Rejected,
    SumsubClient,
    Unavailable,
)
from propdesk_kyc_sumsub.signing import sign_request
from propdesk_kyc_sumsub.simulator import RunningSimulator


def _headers(sim: RunningSimulator, ts: int, method: str, path: str, body: bytes = b"") -> dict:
    sig = sign_request(sim.secret_key, ts, method, path, body)
    return {"X-App-Token": sim.app_token, "X-App-Access-Ts": str(ts), "X-App-Access-Sig": sig}


async def test_bad_secret_is_refused_as_sumsub_words_it(sim: RunningSimulator) -> None:
    async with SumsubClient(sim.url, sim.app_token, "not-the-secret", backoff=0.01) as client:
        with pytest.raises(AuthenticationFailed) as refused:
            await client.create_applicant("crm-1", LEVEL)
    error = refused.value
    assert (error.status, error.code) == (401, 401)
    assert error.description == "Request signature mismatch"
    assert (error.error_code, error.error_name) == (4003, "app-token-signature mismatch")
    assert error.correlation_id and error.correlation_id.startswith("req-")
    assert len(await sim.control.requests()) == 1  # never retried
    assert await sim.control.applicants() == []


async def test_raw_401_body(sim: RunningSimulator) -> None:
    path = "/resources/applicants/abc/one"
    async with httpx.AsyncClient(base_url=sim.url) as http:
        unsigned = await http.get(path)
        headers = _headers(sim, int(time.time()), "GET", path)
        headers["X-App-Access-Sig"] = "0" * 64
        forged = await http.get(path, headers=headers)
    assert unsigned.status_code == 401
    assert set(unsigned.json()) == {"description", "code", "correlationId"}
    assert unsigned.json()["code"] == 401
    assert forged.status_code == 401
    body = forged.json()
    assert set(body) == {"description", "code", "correlationId", "errorCode", "errorName"}
    assert (body["description"], body["errorCode"]) == ("Request signature mismatch", 4003)


async def test_signature_covers_query_and_body(sim: RunningSimulator) -> None:
    ts = int(time.time())
    async with httpx.AsyncClient(base_url=sim.url) as http:
        signed_for = _headers(sim, ts, "POST", "/resources/applicants?levelName=other")
        swapped_query = await http.post(
            "/resources/applicants?levelName=basic-kyc-level",
            content=b'{"externalUserId":"x"}',
            headers=signed_for,
        )
        body = b'{"externalUserId":"x"}'
        path = "/resources/applicants?levelName=basic-kyc-level"
        signed = _headers(sim, ts, "POST", path, body)
        swapped_body = await http.post(path, content=b'{"externalUserId":"y"}', headers=signed)
        genuine = await http.post(path, content=body, headers=signed)
    assert swapped_query.status_code == swapped_body.status_code == 401
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["externalUserId"] == "x"


async def test_unknown_token(sim: RunningSimulator) -> None:
    async with SumsubClient(sim.url, "sbx:someone-else", sim.secret_key) as client:
        with pytest.raises(AuthenticationFailed, match="Invalid app token"):
            await client.status("0" * 24)


async def test_stale_timestamp(sim: RunningSimulator) -> None:
    client = SumsubClient(sim.url, sim.app_token, sim.secret_key)  # on this machine's clock
    async with client:
        made = await client.create_applicant("crm-1", LEVEL)
        await sim.control.advance_clock(50)  # within the minute: fine
        assert (await client.status(made.id)).review_status == "init"
        await sim.control.advance_clock(20)  # now 70 s ahead of our clock
        with pytest.raises(AuthenticationFailed, match="timestamp"):
            await client.status(made.id)
    await sim.control.reset()
    late = SumsubClient(sim.url, sim.app_token, sim.secret_key, clock=lambda: time.time() - 90)
    async with late:
        with pytest.raises(AuthenticationFailed, match="timestamp") as refused:
            await late.status(made.id)
    assert refused.value.status == 401


async def test_bad_request_is_rejected(client: SumsubClient) -> None:
    with pytest.raises(Rejected, match="externalUserId is required") as refused:
        await client.create_applicant("", LEVEL)
    assert refused.value.status == 400


async def test_reads_are_retried_on_5xx(sim: RunningSimulator, client: SumsubClient) -> None:
    made = await client.create_applicant("crm-1", LEVEL)
    await sim.control.clear_requests()
    await sim.control.add_fault(f"/resources/applicants/{made.id}/status", status=503, count=2)
    assert (await client.status(made.id)).review_status == "init"
    statuses = [r["status"] for r in await sim.control.requests()]
    assert statuses == [503, 503, 200]


async def test_retries_are_bounded(sim: RunningSimulator) -> None:
    await sim.control.add_fault(status=502, count=10)
    async with SumsubClient(sim.url, sim.app_token, sim.secret_key, retries=2, backoff=0.01) as c:
        with pytest.raises(Unavailable) as failed:
            await c.applicant("0" * 24)
    assert failed.value.status == 502
    assert len(await sim.control.requests()) == 3


async def test_rate_limited_then_retried(sim: RunningSimulator, client: SumsubClient) -> None:
    await sim.control.add_fault(status=429, count=1, retry_after=0, description="Too many")
    with pytest.raises(NotFound):  # retried after the 429, then the unknown level's answer
        await client.sdk_access_token("crm-1", "nope")
    assert [r["status"] for r in await sim.control.requests()] == [429, 404]


async def test_long_retry_after_is_not_waited(sim: RunningSimulator, client: SumsubClient) -> None:
    await sim.control.add_fault(status=429, count=1, retry_after=30)
    with pytest.raises(RateLimited) as limited:
        await client.applicant("0" * 24)
    assert limited.value.retry_after == 30
    assert len(await sim.control.requests()) == 1


async def test_check_requests_are_not_retried(sim: RunningSimulator, client: SumsubClient) -> None:
    made = await client.create_applicant("crm-1", LEVEL)
    await sim.control.submit(made.id, pending=False)
    await sim.control.clear_requests()
    await sim.control.add_fault("/resources/applicants/", status=503, count=1)
    with pytest.raises(Unavailable):
        await client.request_check(made.id)
    await sim.control.add_fault("/resources/applicants/", status=409, retry_after=3)
    with pytest.raises(Conflict) as busy:
        await client.request_check(made.id)
    assert busy.value.retry_after == 3
    assert len(await sim.control.requests()) == 2
    assert (await client.status(made.id)).review_status == "init"


async def test_dropped_connection(sim: RunningSimulator, client: SumsubClient) -> None:
    made = await client.create_applicant("crm-1", LEVEL)
    await sim.control.submit(made.id, pending=False)
    await sim.control.add_fault(action="drop", count=1)
    assert (await client.applicant(made.id)).id == made.id  # a read: retried
    await sim.control.add_fault(action="drop", count=1)
    with pytest.raises(Unavailable) as lost:
        await client.request_check(made.id)  # a write: the caller decides
    assert lost.value.status == 0
    logged = [(r["method"], r["fault"]) for r in await sim.control.requests()]
    assert logged[-3:] == [("GET", "drop"), ("GET", None), ("POST", "drop")]


async def test_creation_survives_a_lost_answer(sim: RunningSimulator, client: SumsubClient) -> None:
    await sim.control.add_fault("/resources/applicants", action="drop", count=1)
    made = await client.create_applicant("crm-lost", LEVEL)
    assert made.external_user_id == "crm-lost"
    assert len(await sim.control.applicants()) == 1


async def test_rate_limits(sim: RunningSimulator) -> None:
    await sim.control.set_limits(get=3, post=None)
    async with SumsubClient(sim.url, sim.app_token, sim.secret_key, retries=0) as client:
        made = await client.create_applicant("crm-1", LEVEL)
        for _ in range(3):
            await client.status(made.id)
        with pytest.raises(RateLimited) as limited:
            await client.status(made.id)
        await client.sdk_access_token("crm-1", LEVEL)  # POSTs have their own budget
    assert limited.value.status == 429 and limited.value.code == 429


async def test_unreachable_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with SumsubClient(url, "t", "s", retries=1, backoff=0.01) as client:
        with pytest.raises(Unavailable) as down:
            await client.status("0" * 24)
    assert down.value.status == 0
    assert "ConnectError" in down.value.description
