"""What a wire command handler gets (``Call``) and the registry of ``/api/...`` commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator.records import Refusal, to_int

if TYPE_CHECKING:
    from propdesk_mt5.simulator.core import Simulator
    from propdesk_mt5.simulator.sessions import Session

Handler = Callable[["Call"], dict[str, Any]]
#: ``/api/<command>`` → handler; filled by ``@command`` in the api modules.
COMMANDS: dict[str, Handler] = {}


def command(path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[path] = handler
        return handler

    return register


@dataclass
class Call:
    sim: Simulator
    session: Session
    method: str
    query: dict[str, str]
    #: The parsed JSON body, ``None`` when there was none.
    body: Any

    @property
    def manager(self) -> int:
        return self.session.manager or 0

    def fields(self) -> dict[str, Any]:
        """The body as an object (``{}`` without a body); anything else is refused."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise Refusal(Retcode.ERR_PARAMS, "the body is a JSON object")
        return self.body

    def param(self, name: str) -> str | None:
        """A parameter from the query, or from a body object (which wins)."""
        body = self.body if isinstance(self.body, dict) else {}
        if name in body and body[name] is not None:
            value = body[name]
            return ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return self.query.get(name)

    def required(self, name: str) -> str:
        value = self.param(name)
        if value is None or value == "":
            raise Refusal(Retcode.ERR_PARAMS, f"{name} is required")
        return value

    def integer(self, name: str, default: int | None = None) -> int:
        value = self.param(name)
        if value is None or value == "":
            if default is None:
                raise Refusal(Retcode.ERR_PARAMS, f"{name} is required")
            return default
        return to_int(value)

    def ints(self, name: str) -> list[int]:
        return [to_int(part) for part in (self.param(name) or "").split(",") if part.strip()]


def selector(call: Call, names: tuple[str, ...]) -> str:
    """Which one of ``names`` the request selects by; none or several is ``3``."""
    given = [name for name in names if call.param(name)]
    if len(given) != 1:
        raise Refusal(Retcode.ERR_PARAMS, f"exactly one of {', '.join(names)}")
    return given[0]


def page(call: Call, items: list[Any]) -> list[Any]:
    offset, total = call.integer("offset", 0), call.integer("total", 100)
    if offset < 0 or not 0 < total <= 100:
        raise Refusal(Retcode.ERR_PARAMS, "offset ≥ 0, 0 < total ≤ 100")
    return items[offset : offset + total]
