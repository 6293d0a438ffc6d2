"""Fault injection for the wire API and the log of the requests it received."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from propdesk_mt5.protocol import RETCODE_TEXT, Retcode
from propdesk_mt5.simulator.records import Refusal

#: drop_before: close the connection, command not applied, nothing answered.
#: drop_after: apply the command, then close the connection before answering.
#: retcode: answer that retcode without applying. delay: wait, then carry on normally.
ACTIONS = ("drop_before", "drop_after", "retcode", "delay")
#: A masked value stands in for these body fields in the request log.
SECRET_FIELDS = ("pass", "password")


@dataclass
class Fault:
    path: str
    action: str
    #: How many matching requests it hits; 0 is every one until cleared.
    count: int = 1
    retcode: str = ""
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        return self.path in ("*", path)

    def wire(self) -> dict[str, Any]:
        return asdict(self)


def retcode_text(value: Any) -> str:
    """``12`` or ``"12"`` as ``"12 Too frequent requests"``; a full text stays as given."""
    text = str(value).strip()
    head, _, rest = text.partition(" ")
    if not head.lstrip("-").isdigit():
        raise Refusal(Retcode.ERR_PARAMS, f"retcode {value!r} does not start with a number")
    if rest:
        return text
    code = int(head)
    known = {int(k): v for k, v in RETCODE_TEXT.items()}
    return f"{code} {known.get(code, 'Error')}"


class Faults:
    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.action not in ACTIONS:
            raise Refusal(Retcode.ERR_PARAMS, f"action is one of {', '.join(ACTIONS)}")
        if fault.action == "retcode":
            fault.retcode = retcode_text(fault.retcode)
        if fault.count < 0 or fault.seconds < 0:
            raise Refusal(Retcode.ERR_PARAMS, "count and seconds are not negative")
        self.rules.append(fault)

    def clear(self) -> None:
        self.rules.clear()

    def take(self, path: str) -> Fault | None:
        """The first fault for the path, one use of it spent."""
        for fault in self.rules:
            if fault.matches(path):
                if fault.count == 1:
                    self.rules.remove(fault)
                elif fault.count > 1:
                    fault.count -= 1
                return fault
        return None


@dataclass
class LoggedRequest:
    seq: int
    time: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    session: str
    manager: int | None
    retcode: str
    #: Whether the command ran (a fault can stop it before).
    applied: bool
    fault: str | None


def mask_secrets(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            key: "***" if any(s in str(key).lower() for s in SECRET_FIELDS) else mask_secrets(v)
            for key, v in body.items()
        }
    if isinstance(body, list):
        return [mask_secrets(item) for item in body]
    return body


class RequestLog:
    def __init__(self, size: int = 10_000) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=size)
        self._seq = 0

    def add(self, **fields: Any) -> LoggedRequest:
        self._seq += 1
        query = dict(fields.pop("query"))
        query = {k: "***" if "pass" in k.lower() else v for k, v in query.items()}
        entry = LoggedRequest(
            seq=self._seq, query=query, body=mask_secrets(fields.pop("body")), **fields
        )
        self.entries.append(entry)
        return entry

    def select(self, path: str | None = None) -> list[dict[str, Any]]:
        return [asdict(e) for e in self.entries if path is None or e.path == path]

    def clear(self) -> None:
        self.entries.clear()
