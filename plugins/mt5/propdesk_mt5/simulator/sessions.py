"""Manager accounts, per-connection sessions and the challenge-response handshake.

A session belongs to one TCP connection (or to an ``MT5Session`` cookie when a request carries
one): a new connection starts unauthenticated, as on a real access server.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from propdesk_mt5.protocol import (
    AUTH_WINDOW_SECONDS,
    IDLE_TIMEOUT_SECONDS,
    MIN_VERSION,
    Retcode,
    password_hash,
    rand_answer,
)
from propdesk_mt5.simulator.records import Refusal

VERSION_ACCESS = "1290"
VERSION_TRADE = "1290"
#: Answers to a login nobody has: a handshake with an unknown manager fails at the answer.
_NOBODY = password_hash(secrets.token_hex(16))


@dataclass
class PendingAuth:
    login: int
    srv_rand: str
    started: float


@dataclass
class Session:
    key: str
    #: The connection's transport when the server exposes it: a reused client port on a new
    #: connection must not inherit the old connection's login.
    transport: object | None
    last_seen: float
    manager: int | None = None
    pending: PendingAuth | None = None


class Sessions:
    def __init__(
        self,
        auth_window: float = AUTH_WINDOW_SECONDS,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    ) -> None:
        self.auth_window = auth_window
        self.idle_timeout = idle_timeout
        self.managers: dict[int, bytes] = {}
        self._sessions: dict[str, Session] = {}

    def add_manager(self, login: int, password: str) -> None:
        self.managers[login] = password_hash(password)

    def session(self, key: str, transport: object | None, now: float) -> Session:
        """The session of a connection; ``now`` is monotonic (idleness is real time, not the
        simulated clock that tests advance)."""
        self._forget_idle(now)
        session = self._sessions.get(key)
        if session is None or (transport is not None and session.transport is not transport):
            session = Session(key, transport, now)
            self._sessions[key] = session
        session.last_seen = now
        return session

    def _forget_idle(self, now: float) -> None:
        for key, session in list(self._sessions.items()):
            closing = getattr(session.transport, "is_closing", None)
            if now - session.last_seen > self.idle_timeout or (closing and closing()):
                del self._sessions[key]

    def drop(self, key: str) -> None:
        self._sessions.pop(key, None)

    def expire_all(self) -> int:
        count = len(self._sessions)
        self._sessions.clear()
        return count

    def reset(self) -> None:
        self._sessions.clear()
        self.managers.clear()

    def counts(self, now: float) -> dict[str, int]:
        self._forget_idle(now)
        authed = sum(1 for s in self._sessions.values() if s.manager is not None)
        return {"count": len(self._sessions), "authenticated": authed}

    # the handshake

    def start(self, session: Session, query: dict[str, str], now: float) -> dict[str, str]:
        try:
            version = int(query.get("version", ""))
            login = int(query.get("login", ""))
        except ValueError:
            raise Refusal(Retcode.ERR_PARAMS, "version and login are numbers") from None
        agent = query.get("agent", "")
        if not agent or any(c.isspace() for c in agent) or query.get("type") != "manager":
            raise Refusal(Retcode.ERR_PARAMS, "agent without spaces and type=manager")
        if version < MIN_VERSION:
            raise Refusal(Retcode.AUTH_CLIENT_OLD)
        session.manager = None
        srv_rand = secrets.token_hex(16)
        session.pending = PendingAuth(login, srv_rand, now)
        return {"version_access": VERSION_ACCESS, "srv_rand": srv_rand}

    def answer(self, session: Session, query: dict[str, str], now: float) -> dict[str, str]:
        pending, session.pending = session.pending, None
        if pending is None:
            raise Refusal(Retcode.ERR_PARAMS, "auth/answer without auth/start")
        cli_rand = query.get("cli_rand", "")
        try:
            if len(bytes.fromhex(cli_rand)) != 16:
                raise ValueError
        except ValueError:
            raise Refusal(Retcode.ERR_PARAMS, "cli_rand is 16 bytes in hex") from None
        if now - pending.started > self.auth_window:
            raise Refusal(Retcode.ERR_TIMEOUT, "auth/answer came too late")
        hashed = self.managers.get(pending.login, _NOBODY)
        expected = rand_answer(hashed, pending.srv_rand)
        given = query.get("srv_rand_answer", "").lower()
        if pending.login not in self.managers or not secrets.compare_digest(given, expected):
            raise Refusal(Retcode.AUTH_ACCOUNT_INVALID)
        session.manager = pending.login
        return {
            "version_access": VERSION_ACCESS,
            "version_trade": VERSION_TRADE,
            "cli_rand_answer": rand_answer(hashed, cli_rand),
        }
