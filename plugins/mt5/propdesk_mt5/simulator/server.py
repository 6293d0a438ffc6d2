"""The ASGI application (wire API with sessions and fault injection in front of the Litestar
control API) and ``running_simulator``, which serves it with uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar

from propdesk.testing.simulators import ThreadedServer, drop_connection, read_body, transport_of
from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator import api
from propdesk_mt5.simulator.control import SimulatorControl, control_router
from propdesk_mt5.simulator.core import Simulator, SimulatorConfig
from propdesk_mt5.simulator.faults import Fault
from propdesk_mt5.simulator.wire import Call

Scope = dict[str, Any]
Message = dict[str, Any]
COOKIE = "MT5Session"
#: What a body that is not JSON parses to; the dispatch refuses it with ``3``.
_BAD_BODY = object()
#: MT5 escapes these inside parameter values with a backslash (``webapi_screening``).
_ESCAPED = {"\\": "\\", "=": "=", "|": "|", "n": "\n"}


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPED.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def parse_query(raw: bytes) -> dict[str, str]:
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: unescape(value) for key, value in pairs}


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


class WireApp:
    """``/api/...`` is answered here; everything else goes to the control API."""

    def __init__(self, sim: Simulator, inner: Any) -> None:
        self.sim, self.inner = sim, inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.inner(scope, receive, send)
            return
        await self._serve(scope, await read_body(receive), send)

    async def _serve(self, scope: Scope, raw: bytes, send: Any) -> None:
        sim, path = self.sim, scope["path"]
        with sim.lock:
            fault = sim.faults.take(path)
        if fault is not None and fault.action == "delay":
            await asyncio.sleep(fault.seconds)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = _BAD_BODY
        cookie, new_cookie = _cookie(scope), None
        if cookie is None and sim.config.issue_cookies and path == "/api/auth/start":
            cookie = new_cookie = secrets.token_hex(16)
        client = scope.get("client") or ("unknown", 0)
        key = f"cookie:{cookie}" if cookie else f"{client[0]}:{client[1]}"
        status, reply = self._answer(
            scope, key, body, fault, None if cookie else transport_of(send)
        )
        if fault is not None and fault.action.startswith("drop"):
            await drop_connection(send)
            return
        headers = [(b"content-type", b"application/json")]
        if new_cookie:
            headers.append((b"set-cookie", f"{COOKIE}={new_cookie}; Path=/; HttpOnly".encode()))
        data = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def _answer(
        self, scope: Scope, key: str, body: Any, fault: Fault | None, transport: Any
    ) -> tuple[int, dict[str, Any]]:
        sim, path = self.sim, scope["path"]
        query = parse_query(scope.get("query_string", b""))
        with sim.lock:
            sim.touch()
            session = sim.sessions.session(key, transport, time.monotonic())
            manager = session.manager
            applied = fault is None or fault.action in ("delay", "drop_after")
            if not applied:
                status, reply = 200, {"retcode": fault.retcode if fault else ""}
            elif body is _BAD_BODY and session.manager is not None:
                status, reply = 200, {"retcode": str(Retcode.ERR_PARAMS)}
            else:
                call = Call(
                    sim, session, scope["method"], query, None if body is _BAD_BODY else body
                )
                status, reply = api.dispatch(call, path)
            if path == "/api/quit" or (fault is not None and fault.action.startswith("drop")):
                sim.sessions.drop(key)
            sim.log.add(
                time=sim.server_seconds(),
                method=scope["method"],
                path=path,
                query=query,
                body=None if body is _BAD_BODY else body,
                session=key,
                manager=manager if manager is not None else session.manager,
                retcode=reply["retcode"] if fault is None or fault.action != "drop_before" else "",
                applied=applied,
                fault=fault.action if fault else None,
            )
        return status, reply


def create_app(sim: Simulator | SimulatorConfig | None = None) -> WireApp:
    """The simulator as one ASGI application (its market runs during the app's lifespan)."""
    simulator = sim if isinstance(sim, Simulator) else Simulator(sim)
    control = Litestar(
        route_handlers=[control_router(simulator)],
        on_startup=[simulator.start],
        on_shutdown=[simulator.stop],
        openapi_config=None,
        logging_config=None,
    )
    return WireApp(simulator, control)


@dataclass
class RunningSimulator:
    url: str
    control: SimulatorControl
    #: The simulator itself, for in-process assertions (take ``simulator.lock`` to read).
    simulator: Simulator

    @property
    def manager(self) -> tuple[int, str]:
        """The first configured manager's login and password."""
        return next(iter(self.simulator.config.managers.items()))


@contextmanager
def running_simulator(config: SimulatorConfig | None = None) -> Iterator[RunningSimulator]:
    """Serves a simulator on ``config.host`` (an ephemeral port unless ``config.port``) in a
    background thread; ready on entry, stopped on exit."""
    config = config or SimulatorConfig()
    sim = Simulator(config)
    server = ThreadedServer(
        create_app(sim),
        config.host,
        config.port,
        name="mt5-simulator",
        ssl_certfile=config.certfile,
        ssl_keyfile=config.keyfile,
        # Sessions without a cookie live on their connection (``transport_of``): uvicorn must keep
        # an idle one open as long as the simulated server keeps its session.
        timeout_keep_alive=max(1, round(config.idle_timeout_seconds)),
    )
    with server:
        yield RunningSimulator(server.url, SimulatorControl(server.url, verify=False), sim)
