"""Shared helpers of the Sumsub plugin's tests: a local webhook receiver (a plain threaded HTTP
server, independent of the simulator's stack) that records what it gets and answers with
scripted statuses."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LEVEL = "basic-kyc-level"
WEBHOOK_SECRET = "whk-test-secret"


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict[str, str]
    status: int


Check = Callable[[bytes, dict[str, str]], int]


class Receiver:
    """Answers each POST with the next scripted status (then ``check``'s verdict, or 200)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.check: Check | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._status(body, headers)
                with receiver.lock:
                    receiver.received.append(Received(self.path, body, headers, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sumsub/webhook"

    def _status(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            if self.statuses:
                return self.statuses.popleft()
            check = self.check
        return check(body, headers) if check else 200

    def respond(self, *statuses: int) -> None:
        with self.lock:
            self.statuses.extend(statuses)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.statuses.clear()
            self.check = None

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def wait_for(self, count: int, within: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.snapshot()) < count:
            if time.monotonic() > deadline:
                got = [r.body[:80] for r in self.snapshot()]
                raise AssertionError(f"expected {count} webhooks, got {len(got)}: {got}")
            await asyncio.sleep(0.01)
        return self.snapshot()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
