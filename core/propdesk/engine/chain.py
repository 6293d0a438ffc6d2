"""The replay input hash as a hash chain: kept event by event, picklable, same in replay.

``state0 = sha256("propdesk-inputs-v1\\n" + canonical {product, phase, size, addons})``; each
event's canonical body folds in as ``state = sha256(state + body)``; the digest of the inputs
evaluated up to ``until`` is ``sha256(state + canonical {"until": …})``. The engine keeps the
state per account and never rereads its journal to name the inputs of a verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from propdesk.rules.clock import utc
from propdesk.rules.events import canonical_json

PREFIX = b"propdesk-inputs-v1\n"
_sha256 = hashlib.sha256


class InputChain:
    __slots__ = ("state",)

    def __init__(self, state: bytes) -> None:
        self.state = state

    @classmethod
    def start(
        cls, version_hash: str, phase: str, size: str | None, addons: Sequence[str]
    ) -> InputChain:
        head = {"product": version_hash, "phase": phase, "size": size, "addons": list(addons)}
        return cls(_sha256(PREFIX + canonical_json(head).encode()).digest())

    def add(self, body: bytes) -> None:
        """Fold in one event's canonical body (``canonical_json(canonical(event))``)."""
        self.state = _sha256(self.state + body).digest()

    def hexdigest(self, until: datetime | None) -> str:
        tail = canonical_json({"until": utc(until) if until is not None else None})
        return _sha256(self.state + tail.encode()).hexdigest()

    def __getstate__(self) -> bytes:
        return self.state

    def __setstate__(self, state: bytes) -> None:
        self.state = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InputChain) and other.state == self.state

    __hash__ = None  # type: ignore[assignment]
