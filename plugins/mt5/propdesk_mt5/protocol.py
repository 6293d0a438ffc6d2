"""The MT5 Web API's own vocabulary, shared by the client and the simulator: no I/O, no propdesk.

Sources: the Web API documentation (support.metaquotes.net/en/docs/mt5/api/webapi) and the
official SDK headers (``MT5APIUser.h``, ``MT5APIDeal.h``, ``MTRetCode.cs``); see
``integrations.md`` §1 in the project's reference notes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import IntEnum, IntFlag
from typing import Any
from zoneinfo import ZoneInfo

#: ``auth/start`` refuses builds below this one.
MIN_VERSION = 484
#: What this client announces as its build.
CLIENT_VERSION = 5200
#: Seconds allowed between ``auth/start`` and ``auth/answer``.
AUTH_WINDOW_SECONDS = 10
#: The server drops a connection silent for this long; clients ping well before.
IDLE_TIMEOUT_SECONDS = 180
PING_SECONDS = 20
#: Usable characters of a balance operation's comment (32 with the terminator).
COMMENT_LENGTH = 31
#: ``Volume`` is in 1/10000 lot, ``VolumeExt`` in 1/100000000 lot.
VOLUME_PER_LOT = 10_000
VOLUME_EXT_PER_LOT = 100_000_000
#: A balance operation may move at most this much (else ``4005``).
MAX_BALANCE_OPERATION = Decimal(1_000_000_000)


class Retcode(IntEnum):
    """The retcodes a CRM meets (``MTRetCode``); ``str(code)`` is the wire form ``"13 Not
    found"``."""

    OK = 0
    OK_NONE = 1
    ERROR = 2
    ERR_PARAMS = 3
    ERR_DATA = 4
    ERR_NETWORK = 7
    ERR_PERMISSIONS = 8
    ERR_TIMEOUT = 9
    ERR_CONNECTION = 10
    ERR_NOSERVICE = 11
    ERR_FREQUENT = 12
    ERR_NOTFOUND = 13
    ERR_SHUTDOWN = 15
    ERR_DUPLICATE = 17
    AUTH_CLIENT_INVALID = 1000
    AUTH_ACCOUNT_INVALID = 1001
    AUTH_ACCOUNT_DISABLED = 1002
    AUTH_SERVER_BAD = 1008
    AUTH_CLIENT_OLD = 1010
    AUTH_MANAGER_NOCONFIG = 1011
    AUTH_MANAGER_IPBLOCK = 1012
    AUTH_SERVER_BUSY = 1018
    USR_LOGIN_EXHAUSTED = 3002
    USR_LOGIN_PROHIBITED = 3003
    USR_LOGIN_EXIST = 3004
    USR_INVALID_PASSWORD = 3006
    USR_HAS_TRADES = 3008
    USR_DIFFERENT_SERVERS = 3009
    USR_DIFFERENT_CURRENCY = 3010
    TRADE_MAX_MONEY = 4005
    REQUEST_INWAY = 10001
    REQUEST_ACCEPTED = 10002
    REQUEST_PROCESS = 10003
    REQUEST_REJECT = 10006
    REQUEST_CANCEL = 10007
    REQUEST_DONE = 10009
    REQUEST_ERROR = 10011
    REQUEST_TIMEOUT = 10012
    REQUEST_INVALID = 10013
    REQUEST_INVALID_VOLUME = 10014
    REQUEST_TRADE_DISABLED = 10017
    REQUEST_MARKET_CLOSED = 10018
    REQUEST_NO_MONEY = 10019
    REQUEST_PRICE_OFF = 10021
    REQUEST_TOO_MANY = 10024

    def __str__(self) -> str:
        return f"{self.value} {RETCODE_TEXT[self]}"


RETCODE_TEXT: dict[Retcode, str] = {
    Retcode.OK: "Done",
    Retcode.OK_NONE: "OK, no data",
    Retcode.ERROR: "Common error",
    Retcode.ERR_PARAMS: "Invalid parameters",
    Retcode.ERR_DATA: "Invalid data",
    Retcode.ERR_NETWORK: "Network error",
    Retcode.ERR_PERMISSIONS: "Not enough permissions",
    Retcode.ERR_TIMEOUT: "Operation timeout",
    Retcode.ERR_CONNECTION: "No connection",
    Retcode.ERR_NOSERVICE: "Service is not available",
    Retcode.ERR_FREQUENT: "Too frequent requests",
    Retcode.ERR_NOTFOUND: "Not found",
    Retcode.ERR_SHUTDOWN: "Server shutdown in progress",
    Retcode.ERR_DUPLICATE: "Duplicate data",
    Retcode.AUTH_CLIENT_INVALID: "Invalid terminal type",
    Retcode.AUTH_ACCOUNT_INVALID: "Invalid account",
    Retcode.AUTH_ACCOUNT_DISABLED: "Account disabled",
    Retcode.AUTH_SERVER_BAD: "Server isn't authenticated",
    Retcode.AUTH_CLIENT_OLD: "Client has old version",
    Retcode.AUTH_MANAGER_NOCONFIG: "Manager account doesn't have manager config",
    Retcode.AUTH_MANAGER_IPBLOCK: "IP address unallowed for manager",
    Retcode.AUTH_SERVER_BUSY: "Server is busy",
    Retcode.USR_LOGIN_EXHAUSTED: "Logins range exhausted",
    Retcode.USR_LOGIN_PROHIBITED: "Login reserved at another server",
    Retcode.USR_LOGIN_EXIST: "Account already exists",
    Retcode.USR_INVALID_PASSWORD: "Invalid account password",
    Retcode.USR_HAS_TRADES: "Account has open trades",
    Retcode.USR_DIFFERENT_SERVERS: "Attempt to move account to different server",
    Retcode.USR_DIFFERENT_CURRENCY: "Attempt to move account to different currency group",
    Retcode.TRADE_MAX_MONEY: "Money limit reached",
    Retcode.REQUEST_INWAY: "Request on the way",
    Retcode.REQUEST_ACCEPTED: "Request accepted",
    Retcode.REQUEST_PROCESS: "Request processed",
    Retcode.REQUEST_REJECT: "Request rejected",
    Retcode.REQUEST_CANCEL: "Request canceled",
    Retcode.REQUEST_DONE: "Request executed",
    Retcode.REQUEST_ERROR: "Request common error",
    Retcode.REQUEST_TIMEOUT: "Request timeout",
    Retcode.REQUEST_INVALID: "Invalid request",
    Retcode.REQUEST_INVALID_VOLUME: "Invalid volume",
    Retcode.REQUEST_TRADE_DISABLED: "Trade disabled",
    Retcode.REQUEST_MARKET_CLOSED: "Market closed",
    Retcode.REQUEST_NO_MONEY: "Not enough money",
    Retcode.REQUEST_PRICE_OFF: "No prices",
    Retcode.REQUEST_TOO_MANY: "Too many trade requests",
}

#: A dealer request still on its way: poll its result again.
REQUEST_PENDING = frozenset(
    {Retcode.REQUEST_INWAY, Retcode.REQUEST_ACCEPTED, Retcode.REQUEST_PROCESS}
)


def parse_retcode(value: Any) -> tuple[int, str]:
    """``"13 Not found"`` (or ``13``) as ``(13, "Not found")``; unreadable is ``ValueError``."""
    text = str(value).strip()
    head, _, rest = text.partition(" ")
    try:
        return int(head), rest.strip()
    except ValueError:
        raise ValueError(f"retcode {value!r} does not start with a number") from None


class Rights(IntFlag):
    """``EnUsersRights``: an account's ``Rights`` bitmask."""

    ENABLED = 0x1
    PASSWORD = 0x2
    TRADE_DISABLED = 0x4
    INVESTOR = 0x8
    CONFIRMED = 0x10
    TRAILING = 0x20
    EXPERT = 0x40
    OBSOLETE = 0x80
    REPORTS = 0x100
    READONLY = 0x200
    RESET_PASS = 0x400
    OTP_ENABLED = 0x800
    API_ENABLED = 0x4000


#: What a new account gets unless told otherwise (``USER_RIGHT_DEFAULT``).
DEFAULT_RIGHTS = Rights.ENABLED | Rights.PASSWORD | Rights.TRAILING | Rights.EXPERT | Rights.REPORTS


class DealAction(IntEnum):
    """``EnDealAction``."""

    BUY = 0
    SELL = 1
    BALANCE = 2
    CREDIT = 3
    CHARGE = 4
    CORRECTION = 5
    BONUS = 6
    COMMISSION = 7
    COMMISSION_DAILY = 8
    COMMISSION_MONTHLY = 9
    AGENT_DAILY = 10
    AGENT_MONTHLY = 11
    INTERESTRATE = 12
    BUY_CANCELED = 13
    SELL_CANCELED = 14
    DIVIDEND = 15
    DIVIDEND_FRANKED = 16
    TAX = 17
    AGENT = 18
    SO_COMPENSATION = 19
    SO_COMPENSATION_CREDIT = 20


#: Deal actions that change the balance without a trade (``Profit`` holds the amount). Credit
#: (3) and its stop-out compensation (20) change ``Credit``, not the balance.
BALANCE_ACTIONS = frozenset(
    {
        DealAction.BALANCE,
        DealAction.CHARGE,
        DealAction.CORRECTION,
        DealAction.BONUS,
        DealAction.COMMISSION,
        DealAction.COMMISSION_DAILY,
        DealAction.COMMISSION_MONTHLY,
        DealAction.AGENT_DAILY,
        DealAction.AGENT_MONTHLY,
        DealAction.INTERESTRATE,
        DealAction.DIVIDEND,
        DealAction.DIVIDEND_FRANKED,
        DealAction.TAX,
        DealAction.AGENT,
        DealAction.SO_COMPENSATION,
    }
)


class DealEntry(IntEnum):
    """``EnDealEntry``."""

    IN = 0
    OUT = 1
    INOUT = 2
    OUT_BY = 3


class DealReason(IntEnum):
    """``EnDealReason`` (the ones the simulator makes)."""

    CLIENT = 0
    EXPERT = 1
    DEALER = 2
    SL = 3
    TP = 4
    SO = 5


class PositionAction(IntEnum):
    BUY = 0
    SELL = 1


class TradeAction(IntEnum):
    """``EnTradeActions`` for dealer requests."""

    DEALER_POS_EXECUTE = 200


def password_hash(password: str) -> bytes:
    """``MD5(MD5(UTF-16LE(password)) ‖ "WebAPI")``: what both sides derive from the password."""
    inner = hashlib.md5(password.encode("utf-16-le"), usedforsecurity=False).digest()
    return hashlib.md5(inner + b"WebAPI", usedforsecurity=False).digest()


def rand_answer(hashed: bytes, rand_hex: str) -> str:
    """The answer to a challenge: ``hex(MD5(password_hash ‖ rand))``."""
    return hashlib.md5(hashed + bytes.fromhex(rand_hex), usedforsecurity=False).hexdigest()


def to_lots(volume: Any) -> Decimal:
    """A ``Volume`` (1/10000 lot) in lots."""
    return Decimal(str(volume)) / VOLUME_PER_LOT


def to_volume(lots: Decimal) -> int:
    """Lots as ``Volume`` (1/10000 lot); finer than that is ``ValueError``."""
    volume = lots * VOLUME_PER_LOT
    if volume != volume.to_integral_value():
        raise ValueError(f"{lots} lots is finer than 0.0001 lot")
    return int(volume)


def to_volume_ext(lots: Decimal) -> int:
    return int(lots * VOLUME_EXT_PER_LOT)


class ServerTime:
    """Converts between the trade server's clock and UTC.

    MT5 reports times as seconds since 1970 *in the server's time zone* (brokers commonly run
    GMT+2, GMT+3 in summer). ``zone`` is an IANA zone (``Europe/Athens``, exact across DST
    changes), a fixed offset (``+02:00``), or ``ny-close`` (New York time plus seven hours,
    the FX convention of a day ending at 17:00 New York).
    """

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self._ny = zone.lower() == "ny-close"
        self._tz: tzinfo = ZoneInfo("America/New_York") if self._ny else _zone(zone)

    @classmethod
    def fixed(cls, minutes: int) -> ServerTime:
        sign = "-" if minutes < 0 else "+"
        return cls(f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")

    def offset(self, at: datetime) -> timedelta:
        """Server time minus UTC at the UTC instant ``at``."""
        offset = at.astimezone(self._tz).utcoffset() or timedelta(0)
        return offset + timedelta(hours=7) if self._ny else offset

    def to_utc(self, seconds: float) -> datetime:
        """Server seconds (``Time``, or ``TimeMsc / 1000``) as an aware UTC datetime."""
        naive = _EPOCH + timedelta(seconds=seconds)
        local = naive - timedelta(hours=7) if self._ny else naive
        aware = local.replace(tzinfo=self._tz).astimezone(UTC)
        return aware

    def from_utc(self, at: datetime) -> int:
        """The UTC instant ``at`` in server seconds."""
        shifted = at.astimezone(UTC) + self.offset(at)
        return (shifted.replace(tzinfo=None) - _EPOCH) // timedelta(seconds=1)

    def from_utc_msc(self, at: datetime) -> int:
        shifted = at.astimezone(UTC) + self.offset(at)
        return (shifted.replace(tzinfo=None) - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1)


def _zone(name: str) -> tzinfo:
    text = name.strip()
    if text[:1] in "+-" and len(text) == 6 and text[3] == ":":
        hours, minutes = int(text[1:3]), int(text[4:6])
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if text[0] == "-" else delta)
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    try:
        return ZoneInfo(text)
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"server time zone {name!r} is neither an IANA zone (Europe/Athens), an offset "
            "(+02:00) nor ny-close"
        ) from exc
