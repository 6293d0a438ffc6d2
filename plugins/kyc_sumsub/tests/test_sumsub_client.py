"""The client against the simulator: applicants, status, access tokens, check requests."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sumsubkit import LEVEL

from propdesk_kyc_sumsub import Conflict, NotFound, SumsubClient
from propdesk_kyc_sumsub.simulator import RunningSimulator

ODD_ID = "crm/user 42+jo@example.com;x=y"


async def test_create_applicant(sim: RunningSimulator, client: SumsubClient) -> None:
    applicant = await client.create_applicant(
        "crm-1",
        LEVEL,
        email="ann@example.com",
        phone="+4915112345678",
        first_name="Ann",
        last_name="Lee",
        dob=date(1990, 1, 2),
        country="DEU",
    )
    assert re.fullmatch(r"[0-9a-f]{24}", applicant.id)
    assert applicant.external_user_id == "crm-1"
    assert applicant.level_name == LEVEL
    assert applicant.review_status == "init"
    assert (applicant.review_answer, applicant.reject_type, applicant.reject_labels) == (
        None,
        None,
        (),
    )
    assert applicant.attempt_cnt == 1
    (request,) = await sim.control.requests("/resources/applicants")
    assert request["query"] == {"levelName": LEVEL}
    assert request["body"] == {
        "externalUserId": "crm-1",
        "type": "individual",
        "email": "ann@example.com",
        "phone": "+4915112345678",
        "fixedInfo": {"firstName": "Ann", "lastName": "Lee", "dob": "1990-01-02", "country": "DEU"},
    }
    stored = await sim.control.applicant(applicant.id)
    assert stored["fixedInfo"]["dob"] == "1990-01-02"


async def test_create_again_returns_the_existing_applicant(
    sim: RunningSimulator, client: SumsubClient
) -> None:
    first = await client.create_applicant(ODD_ID, LEVEL)
    second = await client.create_applicant(ODD_ID, LEVEL, email="later@example.com")
    assert second.id == first.id
    assert len(await sim.control.applicants()) == 1
    calls = [(r["method"], r["status"]) for r in await sim.control.requests()]
    assert calls == [("POST", 200), ("POST", 409), ("GET", 200)]


async def test_duplicate_is_a_409_in_sumsub_words(sim: RunningSimulator) -> None:
    async with SumsubClient(sim.url, sim.app_token, sim.secret_key) as client:
        first = await client.create_applicant("crm-dup", LEVEL)
        # Bypass the fallback to see the raw refusal.
        with pytest.raises(Conflict) as refused:
            await client._call(
                "POST",
                "/resources/applicants",
                params={"levelName": LEVEL},
                body={"externalUserId": "crm-dup"},
                idempotent=False,
            )
    error = refused.value
    assert error.status == error.code == 409
    assert (
        error.description == f"Applicant with external user id 'crm-dup' already exists: {first.id}"
    )
    assert error.correlation_id and error.correlation_id.startswith("req-")


async def test_get_by_id_and_external_id(client: SumsubClient) -> None:
    made = await client.create_applicant(ODD_ID, "pro level")
    by_id = await client.applicant(made.id)
    by_external = await client.applicant_by_external_id(ODD_ID)
    assert by_id == by_external == made
    assert by_external.external_user_id == ODD_ID
    assert by_external.level_name == "pro level"
    with pytest.raises(NotFound) as missing:
        await client.applicant_by_external_id("nobody")
    assert missing.value.status == 404
    with pytest.raises(NotFound):
        await client.applicant("0" * 24)


async def test_unknown_level_is_refused(client: SumsubClient) -> None:
    with pytest.raises(NotFound, match="Level 'gold' not found"):
        await client.create_applicant("crm-2", "gold")


async def test_status(sim: RunningSimulator, client: SumsubClient) -> None:
    made = await client.create_applicant("crm-3", LEVEL)
    status = await client.status(made.id)
    assert status.review_status == "init"
    assert status.level_name == LEVEL
    assert status.attempt_cnt == 1
    assert status.review_answer is None and status.review_date is None
    await sim.control.review(
        made.id,
        "RED",
        reject_type="FINAL",
        labels=["FORGERY"],
        moderation_comment="Forged document",
        client_comment="internal",
    )
    status = await client.status(made.id)
    assert status.review_status == "completed"
    assert (status.review_answer, status.reject_type) == ("RED", "FINAL")
    assert status.reject_labels == ("FORGERY",)
    assert status.moderation_comment == "Forged document"
    assert status.client_comment == "internal"
    assert status.review_date is not None


async def test_sdk_access_token(sim: RunningSimulator, client: SumsubClient) -> None:
    before = datetime.now(UTC)
    token = await client.sdk_access_token(ODD_ID, LEVEL, 900, email="a@example.com")
    assert token.token.startswith("_act-")
    assert token.user_id == ODD_ID
    assert before + timedelta(seconds=899) <= token.expires <= before + timedelta(seconds=902)
    (request,) = await sim.control.requests("/resources/accessTokens/sdk")
    assert request["body"] == {
        "userId": ODD_ID,
        "levelName": LEVEL,
        "ttlInSecs": 900,
        "applicantIdentifiers": {"email": "a@example.com"},
    }


async def test_legacy_access_token(sim: RunningSimulator, client: SumsubClient) -> None:
    token = await client.legacy_access_token(ODD_ID, "pro level", 60)
    assert token.token.startswith("_act-") and token.user_id == ODD_ID
    (request,) = await sim.control.requests("/resources/accessTokens")
    assert request["query"] == {"userId": ODD_ID, "levelName": "pro level", "ttlInSecs": "60"}
    assert request["body"] is None
    assert "pro+level" in request["raw_path"] or "pro%20level" in request["raw_path"]


async def test_request_check(sim: RunningSimulator, client: SumsubClient) -> None:
    made = await client.create_applicant("crm-4", LEVEL)
    with pytest.raises(Conflict, match="no documents"):
        await client.request_check(made.id, "documents uploaded")
    assert (await client.status(made.id)).review_status == "init"
    await sim.control.submit(made.id, pending=False)
    assert (await client.status(made.id)).review_status == "init"
    await client.request_check(made.id, "documents uploaded")
    assert (await client.status(made.id)).review_status == "pending"
    requests = await sim.control.requests(f"/resources/applicants/{made.id}/status/pending")
    assert [r["status"] for r in requests] == [409, 200]
    assert requests[-1]["query"] == {"reason": "documents uploaded"}
    types = [e["type"] for e in await sim.control.events()]
    assert types == ["applicantCreated", "applicantPending"]
