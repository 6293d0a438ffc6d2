"""One manager session of the MT5 Web API: one keep-alive connection, authenticated once.

The server binds authentication to the connection ("all commands should be passed in the same
session during and after the authentication"), so a session owns an ``httpx.AsyncClient``
limited to one connection and sends one command at a time. When the connection breaks, or the
server forgot the session (idle for 180 s, restarted), the session authenticates again on the
next command: reads are repeated transparently, and so are commands the server refused before
doing anything; a command whose answer was lost raises ``ConnectionLost``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import httpx

from propdesk_mt5.errors import AuthError, ConnectionLost, ProtocolError, error_for
from propdesk_mt5.protocol import (
    CLIENT_VERSION,
    IDLE_TIMEOUT_SECONDS,
    Retcode,
    parse_retcode,
    password_hash,
    rand_answer,
)

#: Attempts of one command across reconnections.
ATTEMPTS = 3
HEADERS = {
    "Accept": "*/*",
    "User-Agent": "Propdesk MT5 Web API client/0.1",
    "Connection": "keep-alive",
}
#: Errors raised before the request left this process: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class MT5Session:
    """A manager session on ``url`` (``https://host:443``; ``http://`` for a local simulator)."""

    def __init__(
        self,
        url: str,
        login: int,
        password: str,
        *,
        agent: str = "propdesk",
        verify: bool | str = True,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not agent or " " in agent:
            raise ValueError(f"agent {agent!r} must be a non-empty name without spaces")
        self.url = url.rstrip("/")
        self.login = login
        self._hash = password_hash(password)
        self.agent = agent
        self._verify = verify
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self.authenticated = False
        #: Monotonic time of the last answer: what the pinger looks at.
        self.last_used = 0.0
        #: Authentications so far (the first one and every re-establishment).
        self.logins = 0
        self.version_access: str | None = None
        self._lock = asyncio.Lock()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.url,
                headers=HEADERS,
                verify=self._verify,
                timeout=self._timeout,
                transport=self._transport,
                limits=httpx.Limits(
                    max_connections=1,
                    max_keepalive_connections=1,
                    keepalive_expiry=IDLE_TIMEOUT_SECONDS - 30,
                ),
            )
        return self._http

    async def request(
        self,
        command: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        *,
        safe: bool = True,
    ) -> dict[str, Any]:
        """Send ``command`` (``user/get``) and return the whole answer (``retcode`` was 0).

        ``safe`` says the command may be repeated when its answer was lost (reads); a command
        that is not safe raises ``ConnectionLost`` then. Non-zero retcodes raise the matching
        ``MT5Error``.
        """
        async with self._lock:
            for attempt in range(ATTEMPTS):
                if not self.authenticated:
                    try:
                        await self._authenticate()
                    except ConnectionLost:
                        if attempt + 1 == ATTEMPTS:
                            raise
                        continue  # nothing of the command was sent yet
                try:
                    answer = await self._send(command, params, body)
                except _NOT_SENT:
                    await self._drop()
                    if attempt + 1 == ATTEMPTS:
                        raise ConnectionLost(command, "could not connect") from None
                    continue
                except httpx.TransportError as exc:
                    await self._drop()
                    if not safe or attempt + 1 == ATTEMPTS:
                        raise ConnectionLost(command, f"{type(exc).__name__}: {exc}") from exc
                    continue
                code, text = _retcode(command, answer)
                if code == Retcode.ERR_PERMISSIONS and attempt == 0:
                    # The server forgot this session (idle timeout, restart) and refuses as it
                    # refuses an unauthenticated one: log in again and repeat once; a second
                    # refusal is a real lack of rights.
                    self.authenticated = False
                    continue
                if code != Retcode.OK:
                    raise error_for(command, code, text)
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, command: str, params: dict[str, Any] | None, body: Any) -> Any:
        path = f"/api/{command}"
        if body is None:
            response = await self._client().get(path, params=_query(params))
        else:
            response = await self._client().post(
                path,
                params=_query(params),
                content=json.dumps(body),
                # What the documentation says, although the body is JSON.
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        self.last_used = time.monotonic()
        if response.status_code >= 400:
            raise ProtocolError(command, f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(command, "the answer is not JSON") from None

    async def _authenticate(self) -> None:
        """Challenge and response (``auth/start``, ``auth/answer``), then the server's proof."""
        try:
            start = await self._send(
                "auth/start",
                {
                    "version": CLIENT_VERSION,
                    "agent": self.agent,
                    "login": self.login,
                    "type": "manager",
                },
                None,
            )
            _check("auth/start", start)
            srv_rand = str(start.get("srv_rand", ""))
            cli_rand = secrets.token_hex(16)
            try:
                srv_answer = rand_answer(self._hash, srv_rand)
            except ValueError:
                raise ProtocolError("auth/start", "srv_rand is not hex") from None
            answer = await self._send(
                "auth/answer", {"srv_rand_answer": srv_answer, "cli_rand": cli_rand}, None
            )
        except httpx.TransportError as exc:
            await self._drop()
            raise ConnectionLost("auth", f"{type(exc).__name__}: {exc}") from exc
        _check("auth/answer", answer)
        if answer.get("cli_rand_answer") != rand_answer(self._hash, cli_rand):
            # Mutual authentication: whoever answered does not know our password.
            await self._drop()
            raise AuthError(
                "auth/answer",
                int(Retcode.AUTH_SERVER_BAD),
                "Server isn't authenticated",
                "its cli_rand_answer does not match the manager's password",
            )
        self.version_access = str(start.get("version_access", "")) or None
        self.authenticated = True
        self.logins += 1

    async def _drop(self) -> None:
        """Forget the connection and the authentication bound to it."""
        self.authenticated = False
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def ping(self) -> None:
        """``test/access``: keeps the connection from the server's idle timeout."""
        await self.request("test/access")

    async def close(self) -> None:
        """Log out (``quit``) and close the connection; errors are ignored."""
        async with self._lock:
            if self.authenticated and self._http is not None:
                try:
                    await self._send("quit", None, None)
                except (httpx.HTTPError, ProtocolError):
                    pass
            await self._drop()


def _query(params: dict[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {k: str(v) for k, v in params.items() if v is not None}


def _retcode(command: str, answer: Any) -> tuple[int, str]:
    if not isinstance(answer, dict) or "retcode" not in answer:
        raise ProtocolError(command, "the answer has no retcode")
    try:
        return parse_retcode(answer["retcode"])
    except ValueError as exc:
        raise ProtocolError(command, str(exc)) from None


def _check(command: str, answer: Any) -> None:
    code, text = _retcode(command, answer)
    if code != Retcode.OK:
        raise error_for(command, code, text)
