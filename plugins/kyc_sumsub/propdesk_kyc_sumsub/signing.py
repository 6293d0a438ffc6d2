"""Sumsub's app-token request signing: ``X-App-Access-Sig`` is the lowercase hex
HMAC-SHA256 of ``ts + METHOD + path_with_query + body`` under the app token's secret key."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Generator

import httpx

TOKEN_HEADER = "X-App-Token"  # noqa: S105 - a header name
TS_HEADER = "X-App-Access-Ts"
SIG_HEADER = "X-App-Access-Sig"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign_request(
    secret_key: str | bytes,
    ts: int | str,
    method: str,
    path_with_query: str | bytes,
    body: bytes | None = None,
) -> str:
    """The signature of one request. ``path_with_query`` is the URI without the host, with the
    query exactly as sent (already URL-encoded); ``body`` the exact bytes sent (none for GET)."""
    message = str(ts).encode("ascii") + method.upper().encode("ascii") + _bytes(path_with_query)
    return hmac.new(_bytes(secret_key), message + (body or b""), hashlib.sha256).hexdigest()


class SumsubAuth(httpx.Auth):
    """Signs every request httpx sends (retries included: each attempt gets a fresh ``ts``)."""

    # The signature covers the body, so httpx must have it in memory before the flow runs.
    requires_request_body = True

    def __init__(
        self, app_token: str, secret_key: str | bytes, *, clock: Callable[[], float] | None = None
    ) -> None:
        self.app_token = app_token
        self._secret = _bytes(secret_key)
        self._clock = clock or time.time

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        ts = int(self._clock())
        # raw_path is the path and query as they go on the wire (percent-encoded), which is
        # what Sumsub signs over; re-encoding it ourselves could differ from what httpx sends.
        path = request.url.raw_path
        request.headers[TOKEN_HEADER] = self.app_token
        request.headers[TS_HEADER] = str(ts)
        request.headers[SIG_HEADER] = sign_request(
            self._secret, ts, request.method, path, request.content
        )
        yield request
