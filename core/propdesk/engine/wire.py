"""Fast decoding of a canonical event body into its rule event: the engine's trusted path.

Bodies in the journal were parsed strictly (``parse_event``) and written canonically at
ingestion, so decoding them again needs no validation: msgspec fills the event dataclasses
straight from the bytes. The event type sits in the body's ``"type"`` key; canonical bodies
sort their keys, so it is found without parsing.
"""

from __future__ import annotations

import msgspec

from propdesk.rules.events import (
    AccountOpened,
    BalanceOperation,
    Clock,
    Deal,
    Event,
    News,
    Operator,
    Snapshot,
)

_TYPE = b'"type":"'
_DECODERS: dict[bytes, msgspec.json.Decoder[Event]] = {
    cls.type.encode(): msgspec.json.Decoder(cls)
    for cls in (AccountOpened, Deal, Snapshot, BalanceOperation, News, Clock, Operator)
}


#: How every canonical snapshot body ends ("type" sorts last); the engine's hot path tests it.
SNAPSHOT_TAIL = b'"type":"snapshot"}'
#: Decodes a snapshot body (no type check: for bodies ending with ``SNAPSHOT_TAIL``).
decode_snapshot = _DECODERS[b"snapshot"].decode


def decode(body: bytes) -> Event:
    """The event of a canonical body (trusted: no validation beyond the types)."""
    if body.endswith(SNAPSHOT_TAIL):  # most of the stream
        return decode_snapshot(body)
    start = body.rindex(_TYPE) + 8
    return _DECODERS[body[start : body.index(b'"', start)]].decode(body)
