"""The WebSDK stand-in page, walked with httpx as a browser would."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import httpx
from sumsubkit import LEVEL, WEBHOOK_SECRET, Receiver

from propdesk_kyc_sumsub import SumsubClient, verify_webhook
from propdesk_kyc_sumsub.simulator import RunningSimulator


def _attr(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found, f"no {name} in the page"
    return html.unescape(found.group(1))


def _form(page: str) -> tuple[str, dict[str, str]] | None:
    """The documents form's action and fields, as a browser would post them."""
    form = re.search(r'<form id="documents" method="post" action="([^"]+)">(.*?)</form>', page)
    if form is None:
        return None
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    assert 'id="submit"' in form.group(2)
    return html.unescape(form.group(1)), {k: html.unescape(v) for k, v in fields}


async def _submit(browser: httpx.AsyncClient, page: httpx.Response) -> httpx.Response:
    form = _form(page.text)
    assert form is not None, page.text
    action, fields = form
    return await browser.post(urljoin(str(page.url), action), data=fields)


async def test_walk_the_page(
    sim: RunningSimulator, client: SumsubClient, receiver: Receiver
) -> None:
    await sim.control.add_webhook(receiver.url, WEBHOOK_SECRET)
    token = await client.sdk_access_token("crm-web", LEVEL, 600)
    assert await sim.control.applicants() == []
    async with httpx.AsyncClient(base_url=sim.url, follow_redirects=True) as browser:
        page = await browser.get("/websdk", params={"accessToken": token.token})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert _attr(page.text, "data-status") == "init"
        applicant_id = _attr(page.text, "data-applicant-id")
        assert (await client.applicant_by_external_id("crm-web")).id == applicant_id

        done = await _submit(browser, page)
        assert done.status_code == 200
        assert [r.status_code for r in done.history] == [303]
        assert _attr(done.text, "data-status") == "pending"
        assert _form(done.text) is None
        assert "being reviewed" in done.text
        again = await browser.get("/websdk", params={"accessToken": token.token})
        assert _attr(again.text, "data-status") == "pending"

    assert (await client.status(applicant_id)).review_status == "pending"
    got = await receiver.wait_for(2)
    events = [verify_webhook(r.body, r.headers, WEBHOOK_SECRET) for r in got]
    assert [e.type for e in events] == ["applicantCreated", "applicantPending"]
    await sim.control.wait_deliveries()
    assert len(receiver.snapshot()) == 2  # looking at the page again sent nothing


async def test_resubmission_after_retry_and_final(
    sim: RunningSimulator, client: SumsubClient
) -> None:
    made = await client.create_applicant("crm-web", LEVEL)
    token = await client.legacy_access_token("crm-web", LEVEL, 600)
    async with httpx.AsyncClient(base_url=sim.url, follow_redirects=True) as browser:
        page = await browser.get("/websdk", params={"accessToken": token.token})
        assert _attr(page.text, "data-applicant-id") == made.id  # the existing applicant
        await _submit(browser, page)
        await sim.control.review(
            made.id, "RED", reject_type="RETRY", moderation_comment="Photo <blurry> & dark"
        )
        page = await browser.get("/websdk", params={"accessToken": token.token})
        assert "Photo &lt;blurry&gt; &amp; dark" in page.text
        assert _form(page.text) is not None
        page = await _submit(browser, page)
        assert _attr(page.text, "data-status") == "pending"
        status = await client.status(made.id)
        assert (status.review_status, status.attempt_cnt) == ("pending", 2)

        await sim.control.review(made.id, "RED", reject_type="FINAL")
        page = await browser.get("/websdk", params={"accessToken": token.token})
        assert _form(page.text) is None and "rejected" in page.text
        forced = await browser.post("/websdk/submit", data={"accessToken": token.token})
        assert forced.status_code == 409
    assert (await client.status(made.id)).reject_type == "FINAL"


async def test_bad_and_expired_tokens(sim: RunningSimulator, client: SumsubClient) -> None:
    token = await client.sdk_access_token("<b>crm</b>", LEVEL, 60)
    async with httpx.AsyncClient(base_url=sim.url) as browser:
        bad = await browser.get("/websdk", params={"accessToken": "_act-nope"})
        assert bad.status_code == 401 and 'id="error"' in bad.text
        missing = await browser.get("/websdk")
        assert missing.status_code == 401
        page = await browser.get("/websdk", params={"accessToken": token.token})
        assert page.status_code == 200
        assert "&lt;b&gt;crm&lt;/b&gt;" in page.text and "<b>crm" not in page.text
        await sim.control.advance_clock(61)
        expired = await browser.get("/websdk", params={"accessToken": token.token})
        assert expired.status_code == 401
        posted = await browser.post("/websdk/submit", data={"accessToken": token.token})
        assert posted.status_code == 401
    applicant = await client.applicant_by_external_id("<b>crm</b>")
    assert applicant.review_status == "init"
