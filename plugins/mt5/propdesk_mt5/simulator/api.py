"""The ``/api/...`` wire surface: the handshake, keep-alive, time, and the dispatch of every
command (the users and trading commands live in ``api_users`` and ``api_trading``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator import api_trading, api_users
from propdesk_mt5.simulator.records import Refusal
from propdesk_mt5.simulator.wire import COMMANDS, Call, command

#: Commands a session may send before it is authenticated.
PUBLIC = frozenset({"/api/auth/start", "/api/auth/answer", "/api/quit"})
#: Keep the command modules imported: importing them registers their commands.
MODULES = (api_users, api_trading)


def dispatch(call: Call, path: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON answer to one command; business errors are HTTP 200."""
    if path not in PUBLIC and call.session.manager is None:
        return 200, {"retcode": str(Retcode.ERR_PERMISSIONS)}
    handler = COMMANDS.get(path)
    if handler is None:
        return 404, {"retcode": str(Retcode.ERR_NOTFOUND)}
    try:
        payload = handler(call)
    except Refusal as refusal:
        return 200, {"retcode": str(refusal.retcode)}
    return 200, {"retcode": str(Retcode.OK), **payload}


@command("/api/auth/start")
def auth_start(call: Call) -> dict[str, Any]:
    return call.sim.sessions.start(call.session, call.query, call.sim.clock.timestamp())


@command("/api/auth/answer")
def auth_answer(call: Call) -> dict[str, Any]:
    return call.sim.sessions.answer(call.session, call.query, call.sim.clock.timestamp())


@command("/api/quit")
def quit_session(call: Call) -> dict[str, Any]:
    call.session.manager = None
    call.session.pending = None
    return {}


@command("/api/test/access")
def test_access(call: Call) -> dict[str, Any]:
    return {}


def server_datetime(seconds: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(seconds=seconds)).strftime("%Y.%m.%d %H:%M:%S")


@command("/api/time/server")
def time_server(call: Call) -> dict[str, Any]:
    seconds = call.sim.server_seconds()
    return {"answer": {"time": f"{seconds} {server_datetime(seconds)}"}}


@command("/api/time/get")
def time_get(call: Call) -> dict[str, Any]:
    return {
        "answer": {
            "Daylight": "0",
            "DaylightState": "0",
            "TimeZone": str(call.sim.offset_minutes()),
            "TimeServer": "",
            "Days": [],
        }
    }


@command("/api/common/get")
def common_get(call: Call) -> dict[str, Any]:
    sim = call.sim
    return {
        "answer": {
            "Name": sim.config.server_name,
            "Owner": "Propdesk simulator",
            "OwnerID": "propdesk",
            "Product": "MetaTrader 5 Web API simulator",
            "TotalUsers": str(len(sim.book.users)),
            "TotalDeals": str(len(sim.book.deals)),
            "TotalPositions": str(len(sim.book.positions)),
        }
    }
