"""Core tests. Fixtures come from propdesk.testing (a pytest plugin installed with propdesk);
these add staff users with roles and a running app, for every domain's HTTP tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from propdesk.access import service
from propdesk.access.models import StaffUser
from propdesk.runtime import Runtime
from propdesk.tenancy.directory import load_tenant

PASSWORD = "correct horse battery staple"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Staff:
    user: StaffUser
    email: str
    password: str = PASSWORD


MakeStaff = Callable[..., Awaitable[Staff]]


@pytest.fixture
def make_staff(propdesk_runtime: Runtime) -> MakeStaff:
    """``await make_staff(("desk_admin", "acme"), ("operator", None))``: a new user with roles."""

    async def make(*roles: tuple[str, str | None], active: bool = True) -> Staff:
        runtime = propdesk_runtime
        email = f"{unique('staff')}@Example.com"
        async with runtime.db.unit_of_work() as session:
            user = await service.create_user(
                session, email=email, password=PASSWORD, actor="test", display_name="Test"
            )
            user.is_active = active
        for role, slug in roles:
            tenant = None
            if slug is not None:
                async with runtime.db.session() as session:
                    tenant = await load_tenant(session, slug)
            async with runtime.db.unit_of_work(tenant) as session:
                await service.grant_role(
                    session,
                    user=await service.get_user(session, user.id),
                    role=role,
                    tenant_slug=slug,
                    actor="test",
                    redis_url=runtime.redis_url,
                )
        return Staff(user, email.lower())

    return make


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(propdesk_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (create_app) with its lifespan running, called in the test loop."""
    from propdesk.http.app import create_app
    from propdesk.http.testing import app_client

    async with app_client(create_app(propdesk_runtime)) as http:
        yield http


SignIn = Callable[[Staff], Awaitable[dict[str, str]]]


@pytest.fixture
def sign_in(client: httpx.AsyncClient) -> SignIn:
    """``headers = await sign_in(staff)``: log in over HTTP; the headers carrying the session
    (the client itself keeps no cookies, so each request says who it is)."""

    async def login(staff: Staff) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", json={"email": staff.email, "password": staff.password}
        )
        assert response.status_code == 200, response.text
        value = response.cookies["propdesk_session"]
        client.cookies.clear()
        return {"Cookie": f"propdesk_session={value}"}

    return login
