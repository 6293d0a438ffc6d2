"""The desk admin's staff and plugins pages: roles granted and revoked through the access
service (audited, one desk only), bad input named by its field, and plugin settings whose
secrets show only as the environment variable they name."""

from __future__ import annotations

import httpx
import pytest
from backoffice_desks import ORIGIN, PASSWORD, desk_runtime, http, open_desk  # noqa: F401

from propdesk.access import service as access
from propdesk.access.policies import grants_of
from propdesk.audit.service import list_records
from propdesk.runtime import Runtime
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests
from propdesk.testing.services import unique_name

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_desk_admin_grants_and_revokes_roles_on_their_desk(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    admin = await desk.staff(http, "desk_admin")
    finance = await desk.staff(http, "finance")
    email = f"{unique_name('new')}@desk.example".lower()
    async with desk_runtime.db.unit_of_work() as session:
        user = await access.create_user(session, email=email, password=PASSWORD, actor="test")

    page = await http.get("/backoffice/staff", headers=admin)
    assert page.status_code == 200 and email not in page.text
    assert 'id="grant-role"' in page.text and "badge-finance" in page.text

    granted = await http.post(
        "/backoffice/staff/roles",
        data={"email": email, "role": "risk"},
        headers={**admin, **ORIGIN},
    )
    assert granted.status_code == 303
    assert granted.headers["location"].startswith("/backoffice/staff?done=")
    async with desk_runtime.db.session(desk.tenant) as session:
        assert [(g.role, g.tenant) for g in await grants_of(session, user.id)] == [
            ("risk", desk.tenant.slug)
        ]
    listed = await http.get("/backoffice/staff", headers=admin)
    assert email in listed.text and f"/backoffice/staff/{user.id}/roles/risk/revoke" in listed.text

    unknown = await http.post(
        "/backoffice/staff/roles",
        data={"email": "nobody@desk.example", "role": "risk"},
        headers={**admin, **ORIGIN},
    )
    assert unknown.status_code == 422 and 'id="e-email"' in unknown.text
    group = await http.post(
        "/backoffice/staff/roles",
        data={"email": email, "role": "operator"},
        headers={**admin, **ORIGIN},
    )
    assert group.status_code == 422 and "group-wide role" in group.text
    denied = await http.post(
        "/backoffice/staff/roles",
        data={"email": email, "role": "desk_admin"},
        headers={**finance, **ORIGIN},
    )
    assert denied.status_code == 403
    assert (await http.get("/backoffice/staff", headers=finance)).status_code == 403

    revoked = await http.post(
        f"/backoffice/staff/{user.id}/roles/risk/revoke", headers={**admin, **ORIGIN}
    )
    assert revoked.status_code == 303
    async with desk_runtime.db.session(desk.tenant) as session:
        assert await grants_of(session, user.id) == []
        trail = await list_records(session, "tenant", newest_first=True, limit=5)
        assert [r.action for r in trail][:2] == ["staff.role_revoked", "staff.role_granted"]


async def test_plugin_settings_show_secrets_as_references(
    desk_runtime: Runtime,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    desk = await open_desk(desk_runtime)
    email = {
        "host": "smtp.desk.example",
        "port": 587,
        "security": "starttls",
        "username": "desk",
        "password": {"env": "DESK_SMTP_PASSWORD"},
        "from_address": "desk@desk.example",
    }
    plugins = {**desk.tenant.plugins, "propdesk.email": email}
    await apply_manifests(
        desk_runtime,
        [TenantManifest.from_values(desk.tenant.slug, plugins=plugins, display_name="Aurora FX")],
    )
    admin = await desk.staff(http, "desk_admin")
    support = await desk.staff(http, "support")

    page = await http.get("/backoffice/plugins", headers=admin)
    assert page.status_code == 200, page.text
    assert f"tenants/{desk.tenant.slug}/tenant.toml" in page.text
    assert "propdesk tenants apply" in page.text
    assert 'id="plugin-propdesk-email"' in page.text
    assert "{env: DESK_SMTP_PASSWORD}" in page.text and "smtp.desk.example" in page.text
    assert 'id="plugin-propdesk-payouts"' in page.text and "second_approval_above" in page.text
    assert (await http.get("/backoffice/plugins", headers=support)).status_code == 403
