"""The catalogue API against the real app, PostgreSQL and Redis: who may do what, and what a
desk admin sees when a product is wrong."""

from __future__ import annotations

import httpx

from propdesk.audit.service import list_records
from propdesk.catalogue.product import content_hash
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

PROBLEM = "application/problem+json"
PRODUCTS = "/api/catalogue/products"


def on(desk: TenantContext, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Propdesk-Tenant": desk.slug}


async def test_a_desk_admin_drafts_publishes_and_reads_a_product(
    propdesk_runtime: Runtime,
    client: httpx.AsyncClient,
    make_staff,
    sign_in,
    desk: TenantContext,
    two_step,
):
    admin = await make_staff(("desk_admin", desk.slug))
    headers = on(desk, await sign_in(admin))

    saved = await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["valid"] is True
    assert saved.json()["draft"]["status"] == "draft"

    published = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
    assert published.status_code == 200, published.text
    body = published.json()
    assert (body["changed"], body["version"]["version"]) == (True, 1)
    assert body["version"]["content_hash"] == content_hash(two_step)
    assert body["version"]["published_by"] == f"user:{admin.user.id}"

    gone = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
    assert gone.status_code == 404, "publishing used the draft up"
    await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=headers)
    again = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
    assert again.json()["changed"] is False
    assert again.json()["message"] == "two-step unchanged (v1)"

    two_step["payout"]["split_percent"] = "85"
    await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=headers)
    await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)

    listing = await client.get(PRODUCTS, headers=headers)
    assert listing.json() == [
        {
            "code": "two-step",
            "name": "Two-Step Challenge",
            "published": 2,
            "versions": 2,
            "has_draft": False,
            "content_hash": content_hash(two_step),
        }
    ]
    versions = (await client.get(f"{PRODUCTS}/two-step", headers=headers)).json()["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "published")]
    one = (await client.get(f"{PRODUCTS}/two-step/versions/2", headers=headers)).json()
    assert one["content"]["payout"]["split_percent"] == "85"

    changes = await client.get(f"{PRODUCTS}/two-step/diff?from=1&to=2", headers=headers)
    assert changes.json()["changes"] == [
        {"pointer": "/payout/split_percent", "change": "changed", "before": "80", "after": "85"}
    ]

    markdown = await client.get(f"{PRODUCTS}/two-step/versions/2/rulebook", headers=headers)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "you keep 85% of the profit" in markdown.text
    html = await client.get(f"{PRODUCTS}/two-step/versions/2/rulebook?format=html", headers=headers)
    assert html.headers["content-type"].startswith("text/html")
    assert "<h1>Two-Step Challenge</h1>" in html.text

    retired = await client.post(f"{PRODUCTS}/two-step/versions/1/retire", headers=headers)
    assert retired.status_code == 200
    assert retired.json()["version"]["status"] == "retired"

    async with propdesk_runtime.db.session(desk) as session:
        records = await list_records(session, "tenant", after_seq=0, limit=500)
    trail = [(r.action, r.actor) for r in records if r.action.startswith("catalogue.")]
    actor = f"user:{admin.user.id}"
    assert trail == [
        ("catalogue.draft_saved", actor),
        ("catalogue.published", actor),
        ("catalogue.draft_saved", actor),  # the unchanged re-publish recorded only its draft
        ("catalogue.draft_saved", actor),
        ("catalogue.published", actor),
        ("catalogue.retired", actor),
    ]


async def test_publishing_an_invalid_draft_is_a_problem_listing_every_pointer(
    client: httpx.AsyncClient, make_staff, sign_in, desk: TenantContext, two_step
):
    headers = on(desk, await sign_in(await make_staff(("desk_admin", desk.slug))))
    two_step["currency"] = "usd"
    two_step["sizes"][0]["prices"]["USD"] = "345.999"
    saved = await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=headers)
    assert saved.status_code == 200
    assert saved.json()["valid"] is False
    assert [p["pointer"] for p in saved.json()["problems"]] == [
        "/currency",
        "/sizes/0/prices/USD",
    ]

    response = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["detail"] == "product 'two-step' has 2 problems: nothing was published"
    assert [e["field"] for e in problem["errors"]] == ["/currency", "/sizes/0/prices/USD"]
    assert (await client.get(PRODUCTS, headers=headers)).json()[0]["published"] is None

    check = await client.post("/api/catalogue/validate", json=two_step, headers=headers)
    assert check.status_code == 200
    assert check.json()["valid"] is False
    assert len(check.json()["problems"]) == 2

    wrong_code = await client.put(f"{PRODUCTS}/one-step/draft", json=two_step, headers=headers)
    assert wrong_code.status_code == 422
    assert wrong_code.json()["errors"] == [
        {"field": "/code", "message": "is 'two-step' but must be 'one-step'"}
    ]


async def test_who_may_read_and_who_may_publish(
    client: httpx.AsyncClient,
    make_staff,
    sign_in,
    make_tenant,
    desk: TenantContext,
    two_step,
):
    other = await make_tenant(f"{desk.slug}x")
    admin = on(desk, await sign_in(await make_staff(("desk_admin", desk.slug))))
    support = on(desk, await sign_in(await make_staff(("support", desk.slug))))
    risk = on(desk, await sign_in(await make_staff(("risk", desk.slug))))
    partner_manager = on(desk, await sign_in(await make_staff(("partner_manager", desk.slug))))
    other_admin = on(desk, await sign_in(await make_staff(("desk_admin", other.slug))))

    assert (
        await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=admin)
    ).status_code == 200

    for headers in (support, risk):
        assert (await client.get(PRODUCTS, headers=headers)).status_code == 200
        refused = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
        put = await client.put(f"{PRODUCTS}/two-step/draft", json=two_step, headers=headers)
        assert put.status_code == 403

    for headers in (partner_manager, other_admin):
        assert (await client.get(PRODUCTS, headers=headers)).status_code == 403
        publish = await client.post(f"{PRODUCTS}/two-step/publish", headers=headers)
        assert publish.status_code == 403

    anonymous = await client.post(
        f"{PRODUCTS}/two-step/publish", headers={"X-Propdesk-Tenant": desk.slug}
    )
    assert anonymous.status_code == 401

    # Nothing of the refused attempts was published.
    listing = await client.get(PRODUCTS, headers=admin)
    assert listing.json()[0]["published"] is None
    assert (await client.post(f"{PRODUCTS}/two-step/publish", headers=admin)).status_code == 200


async def test_unknown_products_and_versions_are_404_problems(
    client: httpx.AsyncClient, make_staff, sign_in, desk: TenantContext
):
    headers = on(desk, await sign_in(await make_staff(("desk_admin", desk.slug))))
    missing = await client.get(f"{PRODUCTS}/nothing-here", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "the catalogue has no product 'nothing-here'"
    publish = await client.post(f"{PRODUCTS}/nothing-here/publish", headers=headers)
    assert publish.status_code == 404
    assert "no draft to publish" in publish.json()["detail"]
