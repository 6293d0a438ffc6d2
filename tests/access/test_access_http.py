"""Deny by default, over HTTP, against the real app, PostgreSQL and Redis.

Who may do what: anonymous callers, signed-in users without roles, a desk admin of desk A,
an operator, leadership, and API tokens scoped to one desk.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from propdesk.access.models import StaffSession
from propdesk.audit.service import list_records
from propdesk.runtime import Runtime
from propdesk.tenancy.directory import load_tenant

PROBLEM = "application/problem+json"


def on(slug: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Headers for a request to desk ``slug``."""
    return {**(headers or {}), "X-Propdesk-Tenant": slug}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_sets_a_session_cookie_and_me_shows_the_roles(
    client: httpx.AsyncClient, make_staff, two_desks
):
    a, _ = two_desks
    staff = await make_staff(("desk_admin", a), ("risk", a))
    response = await client.post(
        "/api/auth/login", json={"email": staff.email.upper(), "password": staff.password}
    )
    client.cookies.clear()
    assert response.status_code == 200, response.text
    assert response.json()["user"] == {
        "id": str(staff.user.id),
        "email": staff.email,
        "display_name": "Test",
    }
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("propdesk_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age=43200"):
        assert attribute.lower() in cookie.lower()
    headers = {"Cookie": f"propdesk_session={response.cookies['propdesk_session']}"}
    me = await client.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert sorted(me.json()["roles"], key=str) == sorted(
        [{"role": "desk_admin", "tenant": a}, {"role": "risk", "tenant": a}], key=str
    )


async def test_wrong_email_and_wrong_password_get_the_same_401(
    client: httpx.AsyncClient, make_staff
):
    staff = await make_staff()
    inactive = await make_staff(active=False)
    bodies = []
    for email, password in [
        (staff.email, "not the password at all"),
        (f"nobody{uuid.uuid4().hex}@example.com", staff.password),
        (inactive.email, inactive.password),
    ]:
        response = await client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "set-cookie" not in response.headers
        bodies.append(response.json()["detail"])
    assert len(set(bodies)) == 1


async def test_logout_ends_the_session(
    propdesk_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
):
    staff = await make_staff()
    headers = await sign_in(staff)
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    response = await client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 204
    assert 'propdesk_session=""' in response.headers["set-cookie"] or (
        "max-age=0" in response.headers["set-cookie"].lower()
    )
    assert (await client.get("/api/me", headers=headers)).status_code == 401
    async with propdesk_runtime.db.session() as session:
        revoked = await session.scalars(
            select(StaffSession.revoked_at).where(StaffSession.user_id == staff.user.id)
        )
        assert all(value is not None for value in revoked)


async def test_anonymous_callers_get_401_on_every_protected_route(
    client: httpx.AsyncClient, two_desks
):
    a, _ = two_desks
    user = uuid.uuid4()
    calls = [
        ("GET", "/api/me"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/auth/tokens"),
        ("POST", "/api/auth/tokens"),
        ("GET", "/api/staff"),
        ("POST", f"/api/staff/{user}/roles"),
        ("DELETE", f"/api/staff/{user}/roles/risk"),
        ("GET", "/api/tenants"),
        ("POST", f"/api/tenants/{a}/suspend"),
    ]
    for method, path in calls:
        response = await client.request(method, path, headers=on(a), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    garbage = {**on(a), **bearer("pdk_" + "x" * 43), "Cookie": "propdesk_session=forged"}
    assert (await client.get("/api/staff", headers=garbage)).status_code == 401


async def test_a_user_without_roles_is_signed_in_but_may_do_nothing(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, _ = two_desks
    headers = await sign_in(await make_staff())
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    assert (await client.get("/api/staff", headers=on(a, headers))).status_code == 403
    assert (await client.get("/api/tenants", headers=headers)).status_code == 403
    response = await client.post(
        f"/api/staff/{uuid.uuid4()}/roles", headers=on(a, headers), json={"role": "risk"}
    )
    assert response.status_code == 403


async def test_a_desk_admin_manages_their_desk_and_no_other(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, b = two_desks
    admin = await make_staff(("desk_admin", a))
    headers = await sign_in(admin)
    mine = await client.get("/api/staff", headers=on(a, headers))
    assert mine.status_code == 200
    assert [s["email"] for s in mine.json()] == [admin.email]
    assert mine.json()[0]["roles"] == ["desk_admin"]
    denied = await client.get("/api/staff", headers=on(b, headers))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/api/tenants", headers=headers)).status_code == 403
    # a desk permission needs a desk
    assert (await client.get("/api/staff", headers=headers)).status_code == 400


async def test_granting_a_desk_role_takes_effect_at_once_and_is_audited(
    propdesk_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, b = two_desks
    admin_headers = await sign_in(await make_staff(("desk_admin", a)))
    newcomer = await make_staff()
    newcomer_headers = await sign_in(newcomer)
    assert (await client.get("/api/staff", headers=on(a, newcomer_headers))).status_code == 403

    url = f"/api/staff/{newcomer.user.id}/roles"
    granted = await client.post(url, headers=on(a, admin_headers), json={"role": "desk_admin"})
    assert granted.status_code == 200, granted.text
    assert granted.json()["changed"] is True
    again = await client.post(url, headers=on(a, admin_headers), json={"role": "desk_admin"})
    assert again.json()["changed"] is False
    assert (await client.get("/api/staff", headers=on(a, newcomer_headers))).status_code == 200
    assert (await client.get("/api/staff", headers=on(b, newcomer_headers))).status_code == 403

    async with propdesk_runtime.db.session() as session:
        tenant = await load_tenant(session, a)
    async with propdesk_runtime.db.session(tenant) as session:
        records = await list_records(
            session, "tenant", action="staff.role_granted", newest_first=True, limit=5
        )
    mine = [r for r in records if r.target == f"staff:{newcomer.user.id}"]
    assert len(mine) == 1  # the repeated grant changed nothing and recorded nothing
    assert mine[0].after == {"email": newcomer.email, "role": "desk_admin", "tenant": a}
    assert mine[0].actor.startswith("user:")

    revoked = await client.delete(f"{url}/desk_admin", headers=on(a, admin_headers))
    assert revoked.status_code == 204
    assert (await client.get("/api/staff", headers=on(a, newcomer_headers))).status_code == 403


async def test_group_roles_cannot_be_granted_on_a_desk(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, _ = two_desks
    headers = await sign_in(await make_staff(("desk_admin", a)))
    target = await make_staff()
    for role in ("operator", "leadership", "wizard"):
        response = await client.post(
            f"/api/staff/{target.user.id}/roles", headers=on(a, headers), json={"role": role}
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert [e["field"] for e in response.json()["errors"]] == ["role"]


async def test_an_operator_may_do_everything_everywhere(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, b = two_desks
    headers = await sign_in(await make_staff(("operator", None)))
    for slug in (a, b):
        assert (await client.get("/api/staff", headers=on(slug, headers))).status_code == 200
    assert (await client.get("/api/tenants", headers=headers)).status_code == 200
    target = await make_staff()
    response = await client.post(
        f"/api/staff/{target.user.id}/roles", headers=on(b, headers), json={"role": "finance"}
    )
    assert response.status_code == 200


async def test_leadership_reads_across_desks_but_manages_nothing(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, _ = two_desks
    headers = await sign_in(await make_staff(("leadership", None)))
    assert (await client.get("/api/tenants", headers=headers)).status_code == 200
    assert (await client.post(f"/api/tenants/{a}/suspend", headers=headers)).status_code == 403
    assert (await client.get("/api/staff", headers=on(a, headers))).status_code == 403
    target = await make_staff()
    response = await client.post(
        f"/api/staff/{target.user.id}/roles", headers=on(a, headers), json={"role": "support"}
    )
    assert response.status_code == 403


async def test_a_desk_token_works_on_its_desk_only(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, b = two_desks
    operator = await make_staff(("operator", None))
    headers = await sign_in(operator)
    created = await client.post(
        "/api/auth/tokens", headers=headers, json={"name": "desk a bot", "tenant": a}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"].startswith("pdk_") and body["tenant"] == a
    token = bearer(body["token"])

    assert (await client.get("/api/staff", headers=on(a, token))).status_code == 200
    assert (await client.get("/api/staff", headers=token)).status_code == 200  # desk from token
    assert (await client.get("/api/staff", headers=on(b, token))).status_code == 403
    # even an operator's desk token does nothing group-wide
    assert (await client.get("/api/tenants", headers=token)).status_code == 403
    # nor issues a token wider than itself
    wider = await client.post("/api/auth/tokens", headers=token, json={"name": "wider"})
    assert wider.status_code == 403

    listed = await client.get("/api/auth/tokens", headers=headers)
    assert [t["name"] for t in listed.json()] == ["desk a bot"]
    assert "token" not in listed.json()[0]
    assert (
        await client.delete(f"/api/auth/tokens/{body['id']}", headers=headers)
    ).status_code == 204
    assert (await client.get("/api/staff", headers=on(a, token))).status_code == 401


async def test_a_desk_token_needs_a_role_on_that_desk(
    client: httpx.AsyncClient, make_staff, sign_in, two_desks
):
    a, b = two_desks
    headers = await sign_in(await make_staff(("support", a)))
    assert (
        await client.post("/api/auth/tokens", headers=headers, json={"name": "x", "tenant": b})
    ).status_code == 403
    assert (
        await client.post("/api/auth/tokens", headers=headers, json={"name": "x", "tenant": a})
    ).status_code == 201
    bad = await client.post(
        "/api/auth/tokens", headers=headers, json={"name": "x", "expires_in_days": 0}
    )
    assert bad.status_code == 400 or bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["expires_in_days"]


async def test_only_your_own_tokens_can_be_revoked(client: httpx.AsyncClient, make_staff, sign_in):
    owner_headers = await sign_in(await make_staff())
    other_headers = await sign_in(await make_staff())
    created = await client.post("/api/auth/tokens", headers=owner_headers, json={"name": "mine"})
    token_id = created.json()["id"]
    assert (
        await client.delete(f"/api/auth/tokens/{token_id}", headers=other_headers)
    ).status_code == 404
    me = await client.get("/api/me", headers=bearer(created.json()["token"]))
    assert me.status_code == 200
