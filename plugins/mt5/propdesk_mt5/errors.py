"""The client's errors: an MT5 retcode becomes a typed exception that keeps the code."""

from __future__ import annotations

from propdesk_mt5.protocol import Retcode

#: The server is busy, rate-limiting or between states: the same call may work later.
TRANSIENT = frozenset(
    {
        Retcode.ERR_NETWORK,
        Retcode.ERR_TIMEOUT,
        Retcode.ERR_CONNECTION,
        Retcode.ERR_NOSERVICE,
        Retcode.ERR_FREQUENT,
        Retcode.ERR_SHUTDOWN,
        Retcode.AUTH_SERVER_BUSY,
        Retcode.REQUEST_TIMEOUT,
        Retcode.REQUEST_TOO_MANY,
        Retcode.REQUEST_MARKET_CLOSED,
        Retcode.REQUEST_PRICE_OFF,
    }
)


class MT5Error(Exception):
    """The server answered ``code`` (its retcode) to ``command``."""

    def __init__(self, command: str, code: int, text: str, detail: str = "") -> None:
        self.command = command
        self.code = code
        self.text = text
        message = f"{command}: {code} {text}".rstrip()
        super().__init__(f"{message} ({detail})" if detail else message)


class AuthError(MT5Error):
    """The manager was not let in (1000 to 1023: wrong login or API password, IP not allowed, no
    manager rights), or the server failed to prove it knows the password (1008)."""


class PermissionDenied(MT5Error):
    """``8``: the manager lacks a right (Accountant, Modify accounts) or access to the group."""


class NotFound(MT5Error):
    """``13``: no such account, position, deal or request."""


class Transient(MT5Error):
    """Busy, rate-limited or disconnected on the server's side: retry later."""


class Rejected(MT5Error):
    """Any other refusal (invalid parameters, weak password, not enough money, trade disabled):
    the same call gets the same answer."""


class ConnectionLost(MT5Error):
    """The connection broke after the command was sent: whether the server applied it is
    unknown. Reads are retried by the client; for commands the caller decides (look the
    result up, then retry)."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(command, int(Retcode.ERR_CONNECTION), "No connection", detail)


class ProtocolError(MT5Error):
    """The answer was not the Web API's JSON envelope."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(command, int(Retcode.ERR_DATA), "Invalid data", detail)


def error_for(command: str, code: int, text: str) -> MT5Error:
    """The exception for a non-zero retcode."""
    if 1000 <= code <= 1099:
        return AuthError(command, code, text)
    if code == Retcode.ERR_PERMISSIONS:
        return PermissionDenied(command, code, text)
    if code == Retcode.ERR_NOTFOUND:
        return NotFound(command, code, text)
    if code in TRANSIENT:
        return Transient(command, code, text)
    return Rejected(command, code, text)
