"""The Litestar app: health, readiness, OpenAPI, problem details, request ids, desks, sessions.

Runs against the session's real PostgreSQL and Redis. A small test plugin registered through
``PluginHost.load(extra=...)`` adds routes, which proves plugin routes mount under
``/plugins/<name>``.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
import structlog
from httpx import AsyncClient
from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select, update

from propdesk import hookimpl
from propdesk.access.permissions import Permission, public, requires
from propdesk.db.engine import after_commit
from propdesk.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from propdesk.http.app import create_app
from propdesk.http.deps import SessionDep, TenantDep
from propdesk.http.tenant import TenantDirectory, TenantSnapshot, resolve
from propdesk.http.testing import app_client
from propdesk.logs import request_id_var
from propdesk.outbox.models import OutboxEvent
from propdesk.plugins.manager import PluginHost
from propdesk.pubsub import TENANTS_CHANNEL
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext, current_tenant
from propdesk.tenancy.models import Tenant

PROBLEM = "application/problem+json"
SECRET = "db password is hunter2"
#: After-commit callbacks that ran, by event id.
COMMITTED: list[str] = []


# -- a test plugin --------------------------------------------------------------------------


@dataclass
class WidgetIn:
    name: str
    size: int


@post("/widgets", opt=public(), status_code=201)
async def create_widget(data: JSONBody[WidgetIn]) -> WidgetIn:
    return data


@get("/widgets/{widget_id:int}", opt=requires("widgets", "read"))
async def read_widget(widget_id: FromPath[int]) -> dict[str, int]:
    return {"id": widget_id}


@get("/refuse", opt=public())
async def refuse() -> None:
    raise InvalidInput(
        "this widget is too big", problems=[FieldProblem("size", "must be at most 10")]
    )


@get("/boom", opt=public())
async def boom() -> None:
    raise RuntimeError(SECRET)


@get("/desk", opt=public())
async def desk(tenant: TenantDep) -> dict[str, Any]:
    return {
        "slug": tenant.slug,
        "current": current_tenant().slug,
        "log_context": structlog.contextvars.get_contextvars(),
        "request_id": request_id_var.get(),
    }


@post("/events", opt=public(), status_code=201)
async def record_event(session: SessionDep, fail: FromQuery[bool] = False) -> dict[str, str]:
    event_id = str(uuid.uuid4())
    session.add(OutboxEvent(event_id=uuid.UUID(event_id), name="widget.made", payload={}))
    await session.flush()

    async def committed() -> None:
        COMMITTED.append(event_id)

    after_commit(session, committed)
    if fail:
        raise Conflict(f"event {event_id} refused after writing it")
    return {"event_id": event_id}


class WidgetPlugin:
    @hookimpl
    def propdesk_register_permissions(self) -> list[Permission]:
        return [Permission("widgets", "read", "See widgets")]

    @hookimpl
    def propdesk_register_routes(self) -> list[Any]:
        return [create_widget, read_widget, refuse, boom, desk, record_event]


# -- fixtures -------------------------------------------------------------------------------


def _runtime(base: Runtime, *, redis_url: str | None = None) -> Runtime:
    host = PluginHost.load(base.settings, extra=[("testplugin", WidgetPlugin())])
    return Runtime(base.settings, host, base.db, redis_url or base.redis_url)


@pytest_asyncio.fixture
async def client(propdesk_runtime: Runtime) -> AsyncIterator[AsyncClient]:
    async with app_client(create_app(_runtime(propdesk_runtime))) as test_client:
        yield test_client


def _slug(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"https://propdesk.dev/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# -- health, readiness, schema --------------------------------------------------------------


async def test_health_answers_without_touching_services(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_when_database_and_redis_answer(client: AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_not_ready_names_redis_when_it_is_down(propdesk_runtime: Runtime) -> None:
    runtime = _runtime(propdesk_runtime, redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    async with app_client(create_app(runtime)) as client:
        assert (await client.get("/health")).status_code == 200
        body = assert_problem(await client.get("/ready"), 503, "not-ready")
    assert body["checks"] == {"database": "ok", "redis": "failed"}
    assert "redis" in body["detail"]


async def test_openapi_schema_lists_core_and_plugin_routes(client: AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Propdesk"
    assert "/health" in schema["paths"] and "/ready" in schema["paths"]
    assert "/plugins/testplugin/widgets" in schema["paths"]
    assert "/plugins/testplugin/widgets/{widget_id}" in schema["paths"]


# -- problem details ------------------------------------------------------------------------


async def test_unknown_path_is_a_404_problem(client: AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/page"), 404, "not-found")
    assert "/no/such/page" in body["detail"]
    assert "errors" not in body


async def test_wrong_method_is_a_405_problem(client: AsyncClient) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_plugin_route_validation_names_the_field(client: AsyncClient) -> None:
    ok = await client.post("/plugins/testplugin/widgets", json={"name": "w", "size": 3})
    assert ok.status_code == 201 and ok.json() == {"name": "w", "size": 3}

    response = await client.post("/plugins/testplugin/widgets", json={"name": "w", "size": "large"})
    body = assert_problem(response, 400, "invalid-request")
    assert [e["field"] for e in body["errors"]] == ["size"]
    assert body["errors"][0]["message"]


async def test_propdesk_error_keeps_status_and_fields(client: AsyncClient) -> None:
    body = assert_problem(await client.get("/plugins/testplugin/refuse"), 422, "invalid-input")
    assert body["detail"] == "this widget is too big"
    assert body["errors"] == [{"field": "size", "message": "must be at most 10"}]


async def test_unhandled_error_is_a_500_without_internals(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/plugins/testplugin/boom")
    body = assert_problem(response, 500, "internal-error")
    assert SECRET not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in caplog.records if r.exc_info and SECRET in str(r.exc_info[1])]
    assert logged, "the traceback must reach the log"
    assert body["request_id"]


# -- request ids ----------------------------------------------------------------------------


async def test_request_id_is_echoed_when_sane(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc.DEF-123_x"})
    assert response.headers["x-request-id"] == "abc.DEF-123_x"


@pytest.mark.parametrize("incoming", [None, "has space", "x" * 129, "semi;colon", ""])
async def test_request_id_is_generated_otherwise(client: AsyncClient, incoming: str | None) -> None:
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    response = await client.get("/health", headers=headers)
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert len(generated) == 32 and int(generated, 16) >= 0


async def test_each_request_logs_one_access_line(client: AsyncClient) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await client.get("/no/such/page", headers={"X-Request-ID": "trace-me-1"})
    lines = [entry for entry in logs if entry.get("event") == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "trace-me-1" == response.headers["x-request-id"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no/such/page", 404)
    assert line["duration_ms"] >= 0
    assert "tenant" in line


# -- desks ----------------------------------------------------------------------------------


async def test_desk_by_header(client: AsyncClient, make_tenant: Any) -> None:
    slug = _slug("hdr")
    await make_tenant(slug)
    with structlog.testing.capture_logs() as logs:
        response = await client.get(
            "/plugins/testplugin/desk",
            headers={"X-Propdesk-Tenant": slug, "X-Request-ID": "desk-req-1"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["slug"] == body["current"] == slug
    assert body["request_id"] == "desk-req-1"
    assert body["log_context"] == {"request_id": "desk-req-1", "tenant": slug}
    access = [entry for entry in logs if entry.get("event") == "request"]
    assert access[0]["tenant"] == slug


async def test_desk_by_host_domain(client: AsyncClient, make_tenant: Any) -> None:
    slug = _slug("dom")
    domain = f"{slug.replace('_', '-')}.desks.example"
    await make_tenant(slug, domains=[domain])
    response = await client.get(
        "/plugins/testplugin/desk", headers={"Host": f"{domain.upper()}:8443"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == slug


async def test_unknown_desk_is_404(client: AsyncClient) -> None:
    response = await client.get(
        "/plugins/testplugin/desk", headers={"X-Propdesk-Tenant": "no_such_desk"}
    )
    body = assert_problem(response, 404, "not-found")
    assert "no_such_desk" in body["detail"]


async def test_desk_endpoint_without_desk_is_400(client: AsyncClient) -> None:
    body = assert_problem(await client.get("/plugins/testplugin/desk"), 400, "tenant-required")
    assert "X-Propdesk-Tenant" in body["detail"]


async def test_health_ignores_desk_header(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Propdesk-Tenant": "no_such_desk"})
    assert response.status_code == 200


async def _set_status(runtime: Runtime, slug: str, status: str) -> None:
    """Change the registry behind the app's back (no announcement)."""
    async with runtime.db.owner_engine.begin() as conn:
        await conn.execute(update(Tenant).where(Tenant.slug == slug).values(status=status))


async def _announce(runtime: Runtime) -> None:
    redis = aioredis.from_url(runtime.redis_url)
    try:
        assert await redis.publish(TENANTS_CHANNEL, "changed") >= 1
    finally:
        await redis.aclose()


async def test_suspension_applies_soon_after_the_announcement_before_the_ttl(
    client: AsyncClient, propdesk_runtime: Runtime, make_tenant: Any
) -> None:
    slug = _slug("susp")
    await make_tenant(slug)
    path, headers = "/plugins/testplugin/desk", {"X-Propdesk-Tenant": slug}
    assert (await client.get(path, headers=headers)).status_code == 200

    await _set_status(propdesk_runtime, slug, "suspended")
    # Unannounced, the cached registry still holds (this is what the announcement is for).
    assert (await client.get(path, headers=headers)).status_code == 200

    await _announce(propdesk_runtime)
    response = await _first_response_with(client, path, headers, 403)
    body = assert_problem(response, 403, "tenant-unavailable")
    assert slug in body["detail"]

    await _set_status(propdesk_runtime, slug, "active")
    await _announce(propdesk_runtime)
    await _first_response_with(client, path, headers, 200)


async def _first_response_with(
    client: AsyncClient, path: str, headers: dict[str, str], status: int
) -> Any:
    """Pub/sub reaches the app's socket asynchronously: allow it well under the 5 s TTL."""
    deadline = time.monotonic() + 2.0
    while (response := await client.get(path, headers=headers)).status_code != status:
        assert time.monotonic() < deadline, f"still {response.status_code}: {response.text}"
        await asyncio.sleep(0.01)
    return response


async def test_registry_cache_expires_without_announcements(
    propdesk_runtime: Runtime, make_tenant: Any
) -> None:
    slug = _slug("ttl")
    await make_tenant(slug)
    now = [1000.0]
    directory = TenantDirectory(propdesk_runtime.db, None, ttl=5.0, clock=lambda: now[0])
    assert (await directory.snapshot()).tenants[slug].status == "active"
    await _set_status(propdesk_runtime, slug, "suspended")
    now[0] += 4.9
    assert (await directory.snapshot()).tenants[slug].status == "active"
    now[0] += 0.2
    assert (await directory.snapshot()).tenants[slug].status == "suspended"


def test_api_token_desk_rules() -> None:
    snapshot = TenantSnapshot(
        {
            "alpha": TenantContext("alpha"),
            "beta": TenantContext("beta"),
            "gone": TenantContext("gone", status="suspended"),
        },
        {"alpha.example": "alpha"},
    )
    # A token scoped to a desk selects it when nothing else does.
    assert resolve(snapshot, header_slug=None, host=None, token_tenant="beta").slug == "beta"
    # ... and is refused for any other desk, by header or by domain.
    with pytest.raises(Forbidden):
        resolve(snapshot, header_slug="alpha", host=None, token_tenant="beta")
    with pytest.raises(Forbidden):
        resolve(snapshot, header_slug=None, host="alpha.example", token_tenant="beta")
    assert resolve(snapshot, header_slug="beta", host="alpha.example", token_tenant="beta")
    with pytest.raises(NotFound):
        resolve(snapshot, header_slug=None, host=None, token_tenant="deleted")
    assert resolve(snapshot, header_slug=None, host="other.example", token_tenant=None) is None


# -- the session dependency -----------------------------------------------------------------


async def _event_exists(runtime: Runtime, tenant: TenantContext, event_id: str) -> bool:
    async with runtime.db.session(tenant) as session:
        found = await session.scalar(
            select(OutboxEvent.id).where(OutboxEvent.event_id == uuid.UUID(event_id))
        )
    return found is not None


async def test_session_commits_then_runs_after_commit_callbacks(
    client: AsyncClient, propdesk_runtime: Runtime, make_tenant: Any
) -> None:
    tenant = await make_tenant(_slug("uow"))
    response = await client.post(
        "/plugins/testplugin/events", headers={"X-Propdesk-Tenant": tenant.slug}
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["event_id"]
    assert await _event_exists(propdesk_runtime, tenant, event_id)
    assert event_id in COMMITTED


async def test_session_rolls_back_when_the_handler_fails(
    client: AsyncClient, propdesk_runtime: Runtime, make_tenant: Any
) -> None:
    tenant = await make_tenant(_slug("rbk"))
    response = await client.post(
        "/plugins/testplugin/events?fail=true", headers={"X-Propdesk-Tenant": tenant.slug}
    )
    body = assert_problem(response, 409, "conflict")
    event_id = body["detail"].split()[1]
    assert not await _event_exists(propdesk_runtime, tenant, event_id)
    assert event_id not in COMMITTED
