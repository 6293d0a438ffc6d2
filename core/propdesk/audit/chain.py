"""The audit hash chain, without I/O: canonical bytes, record hashes and the verifier's walk.

Each record's hash is ``sha256`` of the canonical JSON of all its columns, ``prev_hash``
included, so it commits to the whole chain before it (formancehq/ledger's
``hash = H(prev || canonical(log))``). Canonical JSON is ``sort_keys``, compact separators and
ASCII only; values are normalised first (Decimal and UUID to strings, datetimes to ISO-8601
UTC with microseconds) and floats are refused: money is never a float, and a float would not
survive a JSONB round trip byte for byte.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

#: The ``prev_hash`` of the first record of every chain (the migration seeds the head with it).
GENESIS = "0" * 64

JSONValue = None | bool | int | str | list["JSONValue"] | dict[str, "JSONValue"]


class CanonicalisationError(TypeError):
    """A value cannot go into an audit record as it is (a float, a naive datetime, ...)."""


def _at(path: str, message: str) -> CanonicalisationError:
    return CanonicalisationError(f"audit value at {path or '/'}: {message}")


def normalise(value: Any, path: str = "") -> JSONValue:
    """``value`` as the plain JSON value the chain hashes and the database stores.

    ``path`` is a JSON pointer used in error messages.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _checked_text(value, path)
    if isinstance(value, float):
        raise _at(
            path,
            f"float {value!r} refused: pass money and quantities as Decimal (or str), never float",
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _at(path, f"Decimal {value} refused: only finite numbers can be audited")
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value, path)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return normalise(value.value, path)
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _at(path, f"key {key!r} refused: keys must be strings")
            out[_checked_text(key, path)] = normalise(item, f"{path}/{_pointer_token(key)}")
        return out
    if isinstance(value, list | tuple):
        return [normalise(item, f"{path}/{i}") for i, item in enumerate(value)]
    raise _at(path, f"{type(value).__name__} value {value!r} cannot be audited")


def _checked_text(text: str, path: str) -> str:
    # PostgreSQL's JSONB refuses NUL characters and UTF-8 cannot carry lone surrogates: fail
    # here with a clear message instead of deep inside the INSERT.
    if "\x00" in text:
        raise _at(path, "text with a NUL character refused (PostgreSQL cannot store it)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _at(path, f"text that is not valid Unicode refused ({exc.reason})") from None
    return text


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def format_time(moment: datetime, path: str = "recorded_at") -> str:
    """ISO-8601 in UTC with microseconds, e.g. ``2025-01-31T09:00:00.000000+00:00``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _at(path, f"naive datetime {moment.isoformat()} refused: give it a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of ``value`` (normalised first)."""
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")


def record_hash(
    prev_hash: str,
    seq: int,
    recorded_at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    request_id: str | None = None,
) -> str:
    """The hex sha256 of a record: every column of the row except the hash itself."""
    body = {
        "prev_hash": prev_hash,
        "seq": seq,
        "recorded_at": format_time(recorded_at),
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "request_id": request_id,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


class AuditRow(Protocol):
    """What the verifier reads of a record (the ORM models and ``ChainRecord`` both fit)."""

    @property
    def seq(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def before(self) -> Mapping[str, Any] | None: ...
    @property
    def after(self) -> Mapping[str, Any] | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


class HeadRow(Protocol):
    """The chain head: the seq and hash of the last record (0 and GENESIS when empty)."""

    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class ChainHead:
    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class ChainRecord:
    """One sealed audit record as plain values; ``before``/``after`` already normalised."""

    seq: int
    recorded_at: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    prev_hash: str
    hash: str

    def replace(self, **changes: Any) -> ChainRecord:
        return dataclasses.replace(self, **changes)

    @classmethod
    def of(cls, row: Any) -> ChainRecord:
        """The record held by ``row`` (any object with the record's attributes)."""
        return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)})


def _normalised_mapping(value: Mapping[str, Any] | None, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _at(path, f"expected a mapping or None, got {type(value).__name__}")
    result = normalise(value, path)
    assert isinstance(result, dict)
    return result


def seal(
    head: HeadRow,
    *,
    recorded_at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> ChainRecord:
    """The record that follows ``head``: next seq, linked to it, values normalised, hashed."""
    for name, text in (("actor", actor), ("action", action), ("target", target)):
        if not isinstance(text, str) or not text:
            raise CanonicalisationError(f"audit {name} must be a non-empty string, got {text!r}")
        _checked_text(text, f"/{name}")
    if request_id is not None:
        _checked_text(request_id, "/request_id")
    recorded_at = recorded_at.astimezone(UTC) if recorded_at.tzinfo else recorded_at
    format_time(recorded_at)  # refuses naive datetimes early
    norm_before = _normalised_mapping(before, "/before")
    norm_after = _normalised_mapping(after, "/after")
    seq = head.seq + 1
    digest = record_hash(
        head.hash, seq, recorded_at, actor, action, target, norm_before, norm_after, request_id
    )
    return ChainRecord(
        seq=seq,
        recorded_at=recorded_at,
        actor=actor,
        action=action,
        target=target,
        before=norm_before,
        after=norm_after,
        request_id=request_id,
        prev_hash=head.hash,
        hash=digest,
    )


BreakKind = Literal["missing", "out_of_order", "link", "hash", "head"]


@dataclass(frozen=True)
class Break:
    """The first broken record of a chain: its seq, what is wrong and what that means."""

    seq: int
    kind: BreakKind
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "reason": self.reason}


class ChainWalker:
    """Checks records fed one at a time in seq order, so a verifier can stream millions."""

    def __init__(self) -> None:
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.broken: Break | None = None

    def feed(self, row: AuditRow) -> Break | None:
        """Check the next record; returns (and keeps) the first break found."""
        if self.broken is not None:
            return self.broken
        expected = self.last_seq + 1
        if row.seq > expected:
            self.broken = Break(
                expected,
                "missing",
                f"seq gap (the next record is {row.seq}) — the record was deleted",
            )
        elif row.seq < expected:
            self.broken = Break(
                row.seq, "out_of_order", f"out of order after record {self.last_seq}"
            )
        elif row.prev_hash != self.last_hash:
            self.broken = Break(
                row.seq,
                "link",
                f"prev_hash mismatch with record {self.last_seq} — records were deleted, "
                "reordered or replaced",
            )
        elif _recomputed(row) != row.hash:
            self.broken = Break(row.seq, "hash", "hash mismatch — the record was modified")
        else:
            self.checked += 1
            self.last_seq = row.seq
            self.last_hash = row.hash
        return self.broken

    def finish(self, head: HeadRow) -> Break | None:
        """Compare the end of the walk with the chain head (catches deleting the last record)."""
        if self.broken is not None:
            return self.broken
        if head.seq > self.last_seq:
            self.broken = Break(
                self.last_seq + 1,
                "head",
                f"head mismatch (the head is at record {head.seq}, the log ends at "
                f"{self.last_seq}) — the last record was deleted",
            )
        elif head.seq < self.last_seq:
            self.broken = Break(
                head.seq + 1,
                "head",
                f"head mismatch (the head is at record {head.seq}) — records were appended "
                "outside the audit service",
            )
        elif head.hash != self.last_hash:
            self.broken = Break(
                head.seq,
                "head",
                "head mismatch (the head's hash differs) — the last record was replaced",
            )
        return self.broken


def _recomputed(row: AuditRow) -> str | None:
    try:
        return record_hash(
            row.prev_hash,
            row.seq,
            row.recorded_at,
            row.actor,
            row.action,
            row.target,
            row.before,
            row.after,
            row.request_id,
        )
    except CanonicalisationError:
        return None  # a stored value that cannot be canonicalised was not written by us


def find_break(records: Iterable[AuditRow], head: HeadRow) -> Break | None:
    """The first broken record of a chain given in seq order, or None when it is intact."""
    walker = ChainWalker()
    for row in records:
        if walker.feed(row) is not None:
            return walker.broken
    return walker.finish(head)
