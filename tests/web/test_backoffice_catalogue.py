"""A desk admin edits the catalogue in the back office: a new product from a copy, the form
generated from the product schema (a price, a rule family's parameters), the raw JSON, problems
next to their fields with their JSON pointers, the diff before publishing, and publishing."""

from __future__ import annotations

import json
import re
from html import unescape

import httpx
import pytest
from backoffice_desks import ORIGIN, desk_runtime, http, open_desk  # noqa: F401

from propdesk.catalogue import service
from propdesk.runtime import Runtime

pytestmark = pytest.mark.asyncio(loop_scope="session")


def fields(page: str) -> dict[str, str]:
    """What a browser would post from the product form: every input (no box ticked) and the
    selected options."""
    form = page.split('id="product-form"')[1].split("</form>")[0]
    found: dict[str, str] = {}
    for tag, name, value in re.findall(r'(<input[^>]* name="([^"]+)" value="([^"]*)")', form):
        if 'type="checkbox"' not in tag:
            found[unescape(name)] = unescape(value)
    for name, body in re.findall(r'<select[^>]* name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        found[unescape(name)] = unescape(chosen.group(1)) if chosen else ""
    for name, body in re.findall(
        r'<textarea[^>]* name="([^"]+)"[^>]*>\n(.*?)</textarea>', form, re.S
    ):
        found[unescape(name)] = unescape(body)
    for name in re.findall(r'<input[^>]* name="([^"]+#(?:key|value))"', form):
        found.setdefault(unescape(name), "")
    return found


async def test_a_desk_admin_creates_edits_and_publishes_a_product(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    admin = await desk.staff(http, "desk_admin")
    posting = {**admin, **ORIGIN}

    listed = await http.get("/backoffice/catalogue", headers=admin)
    assert listed.status_code == 200 and 'id="product-funded-payouts"' in listed.text
    made = await http.post(
        "/backoffice/catalogue/new",
        data={"code": "sprint", "name": "Aurora Sprint", "start": "funded-payouts"},
        headers=posting,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"].startswith("/backoffice/catalogue/sprint/draft")

    editor = await http.get("/backoffice/catalogue/sprint/draft", headers=admin)
    assert editor.status_code == 200, editor.text
    form = fields(editor.text)
    # Inputs for the parts a desk admin edits most, named by JSON pointer.
    assert form["/name"] == "Aurora Sprint"
    assert form["/sizes/0/prices/USD"] == "540.00"
    assert form["/phases/0/rules/0/family"] == "max_loss"
    assert form["/phases/0/rules/0/params/amount/percent"] == "10"
    assert form["/payout/split_percent"] == "80"
    assert '<label for="f-phases-0-kind">Kind' in editor.text

    # A new price, a bad leverage and a new rule without its parameters: saved with problems.
    form.update(
        {
            "/sizes/0/prices/USD": "499.00",
            "/phases/0/leverage": "lots",
            "/phases/0/rules/1/family": "profit_target",
            "intent": "save",
        }
    )
    saved = await http.post("/backoffice/catalogue/sprint/draft", data=form, headers=posting)
    assert saved.status_code == 303, saved.text
    shown = await http.get(saved.headers["location"], headers=admin)
    assert "Draft saved, 2 problems to fix." in unescape(shown.text)
    leverage = shown.text.split('id="f-phases-0-leverage"')[1].split("</div>")[0]
    assert "<code>/phases/0/leverage</code> must be an integer, not a string" in leverage
    assert "<code>/phases/0/rules/1/params/amount</code> is required" in shown.text
    # The new rule's parameters now have the fields of its family.
    assert 'name="/phases/0/rules/1/params/flat_required"' in shown.text

    review = await http.get("/backoffice/catalogue/sprint/publish", headers=admin)
    assert 'id="publish"' not in review.text and "Fix the draft" in review.text
    refused = await http.post("/backoffice/catalogue/sprint/publish", headers=posting)
    assert refused.status_code == 422 and "nothing was published" in refused.text

    # The JSON editor: not JSON is refused where it is wrong, and nothing is saved.
    async with desk_runtime.db.session(desk.tenant) as session:
        draft = await service.get_draft(session, "sprint")
        assert draft is not None
        content, base = dict(draft.content), draft.content_hash
    broken = await http.post(
        "/backoffice/catalogue/sprint/draft/json",
        data={"json": '{"code": "sprint",', "intent": "save", "base": base},
        headers=posting,
    )
    assert broken.status_code == 422 and "line 1, column 19" in broken.text
    content["phases"][0]["leverage"] = 50
    content["phases"][0]["rules"][1]["params"] = {
        "amount": {"percent": "8", "of": "initial_balance"}
    }
    fixed = await http.post(
        "/backoffice/catalogue/sprint/draft/json",
        data={"json": json.dumps(content), "intent": "save", "base": base},
        headers=posting,
    )
    assert fixed.status_code == 303
    assert "no problems" in unescape(
        (await http.get(fixed.headers["location"], headers=admin)).text
    )

    review = await http.get("/backoffice/catalogue/sprint/publish", headers=admin)
    assert review.status_code == 200 and 'id="publish"' in review.text
    assert "this will be its first version" in review.text
    published = await http.post("/backoffice/catalogue/sprint/publish", headers=posting)
    assert published.status_code == 303
    assert published.headers["location"] == "/backoffice/catalogue/sprint?done=Published%20v1."
    product = await http.get(published.headers["location"], headers=admin)
    assert 'id="version-1"' in product.text and "badge-published" in product.text

    # The next change: the review shows the diff against v1.
    again = fields((await http.get("/backoffice/catalogue/sprint/draft", headers=admin)).text)
    again.update({"/sizes/0/prices/USD": "449.00", "intent": "save"})
    assert (
        await http.post("/backoffice/catalogue/sprint/draft", data=again, headers=posting)
    ).status_code == 303
    diff = await http.get("/backoffice/catalogue/sprint/publish", headers=admin)
    assert "<code>/sizes/0/prices/USD</code>" in diff.text
    assert '<td class="del"><pre>"499.00"</pre></td>' in diff.text
    assert '<td class="add"><pre>"449.00"</pre></td>' in diff.text
    assert "Publishing makes it v2" in diff.text


async def test_edits_on_a_stale_page_and_other_roles_change_nothing(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    admin = await desk.staff(http, "desk_admin")
    support = await desk.staff(http, "support")
    page = await http.get("/backoffice/catalogue/funded-payouts/draft", headers=admin)
    form = {**fields(page.text), "intent": "save", "/name": "Renamed"}

    seen = await http.get("/backoffice/catalogue/funded-payouts/draft", headers=support)
    assert seen.status_code == 200 and 'id="save-form"' not in seen.text
    denied = await http.post(
        "/backoffice/catalogue/funded-payouts/draft", data=form, headers={**support, **ORIGIN}
    )
    assert denied.status_code == 403

    stale = await http.post(
        "/backoffice/catalogue/funded-payouts/draft",
        data={**form, "base": "sha256:not-what-it-was"},
        headers={**admin, **ORIGIN},
    )
    assert stale.status_code == 409 and "changed since this page was opened" in stale.text
    base = form["base"]
    renamed = await http.post(
        "/backoffice/catalogue/funded-payouts/draft/json",
        data={"json": '{"code": "other"}', "intent": "save", "base": base},
        headers={**admin, **ORIGIN},
    )
    assert renamed.status_code == 422 and "<code>/code</code>" in renamed.text
    checked = await http.post(
        "/backoffice/catalogue/funded-payouts/draft",
        data={**form, "/payout/split_percent": "eighty", "intent": "check"},
        headers={**admin, **ORIGIN},
    )
    assert checked.status_code == 200 and "Checked, not saved: 1 problem." in checked.text
    split = checked.text.split('id="f-payout-split_percent"')[1].split("</div>")[0]
    assert "<code>/payout/split_percent</code>" in split and 'value="eighty"' in split
    taken = await http.post(
        "/backoffice/catalogue/new",
        data={"code": "funded-payouts", "name": "Again", "start": ""},
        headers={**admin, **ORIGIN},
    )
    assert taken.status_code == 422 and "exists already" in taken.text
    async with desk_runtime.db.session(desk.tenant) as session:
        assert await service.get_draft(session, "funded-payouts") is None
