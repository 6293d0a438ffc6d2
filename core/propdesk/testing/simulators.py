"""Plumbing for simulators of outside services (trading platforms, payment and KYC providers)
and for the tests that drive them. Propdesk's own simulators are built on it; a vendor can build
theirs the same way and keep only its config and its app:

    class MyControl(ControlClient):  # one method per route of the control API
        async def reset(self) -> None:
            await self._call("POST", "/reset")

    @contextmanager
    def running_simulator(config: MyConfig) -> Iterator[RunningMySimulator]:
        with ThreadedServer(create_app(config), config.host, config.port) as server:
            yield RunningMySimulator(server.url, MyControl(server.url))

    def main() -> int:  # python -m my_simulator
        return serve_until_signal(
            running_simulator(parse_args()), lambda sim: f"My simulator listening on {sim.url}"
        )

In tests: ``await eventually(check, "what it waits for")``, and ``async with
serving_app(runtime) as base_url`` to give a simulator a Propdesk to call (webhooks).

The pytest plugin does not import this module: import it where it is used.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
import uvicorn

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

T = TypeVar("T")
#: An ASGI application: ``await app(scope, receive, send)``.
ASGIApp = Callable[..., Awaitable[None]]

__all__ = [
    "ASGIApp",
    "ControlClient",
    "ThreadedServer",
    "eventually",
    "serve_until_signal",
    "serving_app",
]


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one), for uvicorn's ``sockets=``.
    Binding it ourselves is what tells us the port before the server runs, with no window in
    which another process can take it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP, and with Nagle on small request/response exchanges stall on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ThreadedServer:
    """``app`` served by uvicorn in a daemon thread of this process, with its own event loop,
    so synchronous tests and other event loops can use it. The port is bound when the object is
    made: ``url`` is known before the server starts (a simulator may put it in the links it
    hands out). Use it as a context manager, or ``start()`` and ``stop()``.

    ``timeout_keep_alive`` is how long uvicorn keeps an idle connection open; a simulator whose
    sessions live on a connection (MT5) sets it to its own idle timeout."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "asgi-server",
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        timeout_keep_alive: int = 5,
        start_timeout: float = 15.0,
    ) -> None:
        self.name, self._start_timeout = name, start_timeout
        self._sock = _listening_socket(host, port)
        scheme = "https" if ssl_certfile else "http"
        shown = f"[{host}]" if self._sock.family == socket.AF_INET6 else host
        self.url = f"{scheme}://{shown}:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            app,
            lifespan="on",
            loop="asyncio",
            # Leave the process's logging alone and keep quiet but for problems.
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=timeout_keep_alive,  # 5: uvicorn's own default
            # Open connections get this long to finish on stop, so a test's exit cannot hang.
            timeout_graceful_shutdown=2,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=name, daemon=True
        )

    def start(self) -> None:
        """Runs the server and returns once it accepts connections (its lifespan startup done)."""
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                self._sock.close()
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stops the server (lifespan shutdown included) and releases the port."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class ControlClient:
    """Base of an async client of a simulator's control API (under ``prefix``): subclasses add
    one method per route on top of ``_call``.

    An httpx client belongs to the event loop it first ran in, and pytest may run fixtures and
    tests in different loops; so the client is opened on first use in the running loop, and a
    fresh one is opened when used from another loop later."""

    #: Where the control API is mounted on the simulator.
    prefix = "/__sim__"

    def __init__(
        self, url: str, *, verify: bool | ssl.SSLContext = True, timeout: float = 10.0
    ) -> None:
        self.url = url.rstrip("/")
        self._verify, self._timeout = verify, timeout
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # The previous loop's client is dropped, not closed: closing it needs that loop.
            self._client = httpx.AsyncClient(
                base_url=f"{self.url}{self.prefix}", verify=self._verify, timeout=self._timeout
            )
            self._loop = loop
        return self._client

    async def _call(self, method: str, route: str, json: Any = None, **params: Any) -> Any:
        """``method route`` with a JSON body and the query ``params`` that are not None; the
        decoded JSON answer. A status of 400 or more raises ``httpx.HTTPStatusError``."""
        query = {k: v for k, v in params.items() if v is not None}
        response = await self._http().request(method, route, json=json, params=query)
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


def serve_until_signal(serving: AbstractContextManager[T], banner: Callable[[T], str]) -> int:
    """A simulator's ``python -m`` entry point: enters ``serving`` (its running_simulator),
    prints ``banner(served)`` as the one line on stdout (scripts and tests read the URL there),
    serves until SIGINT or SIGTERM and returns 0, the exit status."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handlers instead of KeyboardInterrupt: Ctrl-C then stops the server in order and the
    # process exits 0 with nothing on stderr. The previous ones are back afterwards, for callers
    # that run this in a process that goes on.
    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with serving as served:
            print(banner(served), flush=True)
            # Timed waits: where a signal does not interrupt a blocking wait (Windows), the
            # handler still runs, and the loop sees its event, within half a second.
            while not stop.wait(0.5):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


# ASYNC109 would have callers wrap this in asyncio.timeout: that cancels a check halfway (a
# database query, an HTTP call) and raises TimeoutError, where a test wants to hear what it
# waited for.
async def eventually(
    check: Callable[[], Awaitable[T]],
    what: str,
    timeout: float = 20.0,  # noqa: ASYNC109
    *,
    interval: float = 0.05,
) -> T:
    """Awaits ``check()`` every ``interval`` seconds until it returns something true, and
    returns that; after ``timeout`` seconds, an AssertionError saying it waited for ``what``."""
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)
    return value


@asynccontextmanager
async def serving_app(runtime: Runtime) -> AsyncIterator[str]:
    """The Propdesk web app of ``runtime`` on a free local port, yielding its base URL. It runs
    in the current event loop, the one the runtime's database and Redis connections belong to,
    so a test can share the runtime with it."""
    # Imported here: simulators import this module, and they need not load the web app.
    from propdesk.cli.serve import web_server

    sock = _listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = web_server(runtime, "127.0.0.1", port)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if task.done() or time.monotonic() > deadline:
                raise RuntimeError("the Propdesk web app did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


# -- the wire side of a raw ASGI front ---------------------------------------------------------


async def read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """The whole request body of an ASGI ``http`` request, however it was chunked."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return b"".join(chunks)


def transport_of(send: Any) -> Any:
    """uvicorn's connection transport behind ``send`` (its ``RequestResponseCycle.send``), or
    ``None`` under another server: what a simulator keys a connection-bound session on."""
    return getattr(getattr(send, "__self__", None), "transport", None)


async def drop_connection(send: Any) -> None:
    """Close the connection without an answer, as a server that went away does (fault
    injection). Under uvicorn the client reads EOF; elsewhere a response that starts and never
    finishes makes the server close the connection."""
    cycle, transport = getattr(send, "__self__", None), transport_of(send)
    if transport is not None:
        transport.close()
        for _ in range(50):
            if getattr(cycle, "disconnected", True):
                return
            await asyncio.sleep(0.001)
        transport.abort()
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ConnectionAbortedError("fault injection: connection dropped")
