"""Fail at startup: a route without a permission, or with one nobody declared, stops the app."""

from __future__ import annotations

import pytest
from litestar import get

from propdesk import hookimpl
from propdesk.access.permissions import Permission, requires, signed_in
from propdesk.errors import ConfigurationError
from propdesk.http.app import create_app
from propdesk.plugins.manager import PluginHost
from propdesk.runtime import Runtime


@get("/forgotten", operation_id="forgotten")
async def forgotten() -> str:
    return "anyone?"


@get("/haunted", opt=requires("ghosts", "haunt"), operation_id="haunted")
async def haunted() -> str:
    return "boo"


@get("/declared", opt=requires("widgets", "read"), operation_id="declared")
async def declared() -> str:
    return "fine"


@get("/mine", opt=signed_in(), operation_id="mine")
async def mine() -> str:
    return "fine"


class RoutesPlugin:
    """A test plugin registering the routes it was given."""

    def __init__(self, *routes: object) -> None:
        self._routes = list(routes)

    @hookimpl
    def propdesk_register_routes(self) -> list[object]:
        return self._routes

    @hookimpl
    def propdesk_register_permissions(self) -> list[Permission]:
        return [Permission("widgets", "read", "See widgets", "tenant", ("support",))]


def runtime_with(runtime: Runtime, name: str, plugin: object) -> Runtime:
    host = PluginHost.load(runtime.settings, extra=[(name, plugin)])
    return Runtime(runtime.settings, host, runtime.db, runtime.redis_url)


def test_a_route_without_a_permission_stops_the_app(propdesk_runtime: Runtime) -> None:
    runtime = runtime_with(propdesk_runtime, "sloppy", RoutesPlugin(declared, forgotten))
    with pytest.raises(ConfigurationError) as caught:
        create_app(runtime)
    message = caught.value.detail
    assert "GET /plugins/sloppy/forgotten" in message
    assert "declares no permission" in message
    assert "/plugins/sloppy/declared" not in message


def test_a_route_needing_an_undeclared_permission_stops_the_app(
    propdesk_runtime: Runtime,
) -> None:
    runtime = runtime_with(propdesk_runtime, "spooky", RoutesPlugin(haunted))
    with pytest.raises(ConfigurationError) as caught:
        create_app(runtime)
    assert "GET /plugins/spooky/haunted" in caught.value.detail
    assert "ghosts" in caught.value.detail


def test_routes_that_declare_their_permissions_start(propdesk_runtime: Runtime) -> None:
    runtime = runtime_with(propdesk_runtime, "tidy", RoutesPlugin(declared, mine))
    app = create_app(runtime)
    assert {"/plugins/tidy/declared", "/plugins/tidy/mine"} <= {r.path for r in app.routes}
