"""The audit hash chain without a database: canonical bytes, hashes and tamper detection (R9)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from propdesk.audit.chain import (
    GENESIS,
    CanonicalisationError,
    ChainHead,
    ChainRecord,
    ChainWalker,
    canonical_json,
    find_break,
    normalise,
    record_hash,
    seal,
)

T0 = datetime(2025, 1, 31, 9, 0, 0, 123456, tzinfo=UTC)
COLUMNS = ("recorded_at", "actor", "action", "target", "before", "after", "request_id")


def build_chain(entries: list[dict[str, Any]]) -> tuple[list[ChainRecord], ChainHead]:
    records: list[ChainRecord] = []
    head = ChainHead()
    for i, entry in enumerate(entries):
        sealed = seal(head, recorded_at=T0 + timedelta(milliseconds=i), **entry)
        records.append(sealed)
        head = ChainHead(sealed.seq, sealed.hash)
    return records, head


def simple_chain(n: int) -> tuple[list[ChainRecord], ChainHead]:
    return build_chain(
        [
            {
                "actor": "user:00000000-0000-0000-0000-000000000001",
                "action": "payout.approved",
                "target": f"payout:{i}",
                "before": {"status": "requested"},
                "after": {"status": "approved", "amount": Decimal(f"{i}.50")},
            }
            for i in range(n)
        ]
    )


# --- canonical JSON -------------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_and_ascii() -> None:
    assert canonical_json({"b": 1, "a": {"é": "x", "z": [True, None]}}) == (
        b'{"a":{"z":[true,null],"\\u00e9":"x"},"b":1}'
    )


def test_decimals_keep_their_digits_and_uuids_become_strings() -> None:
    value = {"amount": Decimal("1250.10"), "id": uuid.UUID(int=1)}
    assert normalise(value) == {
        "amount": "1250.10",
        "id": "00000000-0000-0000-0000-000000000001",
    }


def test_datetimes_become_utc_with_microseconds() -> None:
    paris = timezone(timedelta(hours=1))
    assert normalise(datetime(2025, 1, 31, 10, 0, tzinfo=paris)) == (
        "2025-01-31T09:00:00.000000+00:00"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"payout": {"amount": 12.5}}, "/payout/amount: float 12.5 refused"),
        ({"rows": [1, 2.0]}, "/rows/1: float 2.0 refused"),
        ({"at": datetime(2025, 1, 1)}, "/at: naive datetime"),
        ({"amount": Decimal("NaN")}, "/amount: Decimal NaN refused"),
        ({"note": "a\x00b"}, "/note: text with a NUL"),
        ({1: "x"}, "key 1 refused"),
        ({"things": {1, 2}}, "/things: set value"),
    ],
)
def test_values_that_would_not_round_trip_are_refused_naming_where(
    value: dict[str, Any], message: str
) -> None:
    with pytest.raises(CanonicalisationError, match=message.replace(".", r"\.")):
        seal(ChainHead(), recorded_at=T0, actor="a:b", action="x", target="y", after=value)


def test_money_as_float_is_refused_with_advice() -> None:
    with pytest.raises(CanonicalisationError, match="never float"):
        canonical_json({"amount": 0.1})


def test_empty_actor_is_refused() -> None:
    with pytest.raises(CanonicalisationError, match="actor"):
        seal(ChainHead(), recorded_at=T0, actor="", action="x", target="y")


def test_genesis_matches_the_migration() -> None:
    from propdesk.db.migrations.audit_ddl import GENESIS as MIGRATION_GENESIS

    assert GENESIS == MIGRATION_GENESIS


# --- record hashes --------------------------------------------------------------------------

GOLDEN = dict(
    prev_hash=GENESIS,
    seq=1,
    recorded_at=T0,
    actor="user:00000000-0000-0000-0000-000000000001",
    action="payout.approved",
    target="payout:42",
    before={"status": "requested"},
    after={"status": "approved", "amount": "1250.00"},
    request_id="req-1",
)


def test_the_hash_of_a_known_record_never_changes() -> None:
    # Existing chains stay verifiable only if the canonical form never changes.
    assert record_hash(**GOLDEN) == (
        "a54031811322ee0f76caf47ccc1caf6393efe00d5e6912d3cfc49fb4820a8f5f"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prev_hash", "f" * 64),
        ("seq", 2),
        ("recorded_at", T0 + timedelta(microseconds=1)),
        ("actor", "user:00000000-0000-0000-0000-000000000002"),
        ("action", "payout.rejected"),
        ("target", "payout:43"),
        ("before", None),
        ("after", {"status": "approved", "amount": "1250.01"}),
        ("request_id", None),
    ],
)
def test_every_column_is_covered_by_the_hash(field: str, value: Any) -> None:
    assert record_hash(**{**GOLDEN, field: value}) != record_hash(**GOLDEN)


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert record_hash(**{**GOLDEN, "recorded_at": T0.astimezone(tokyo)}) == record_hash(**GOLDEN)


def test_seal_links_to_the_head_and_stores_normalised_values() -> None:
    head = ChainHead(7, "a" * 64)
    sealed = seal(
        head,
        recorded_at=T0,
        actor="cli:ops",
        action="tenant.suspended",
        target="tenant:acme",
        after={"amount": Decimal("10.00"), "at": T0},
    )
    assert (sealed.seq, sealed.prev_hash) == (8, "a" * 64)
    assert sealed.after == {"amount": "10.00", "at": "2025-01-31T09:00:00.123456+00:00"}
    assert sealed.hash == record_hash(
        "a" * 64, 8, T0, "cli:ops", "tenant.suspended", "tenant:acme", None, sealed.after
    )


# --- values as a JSON store gives them back -------------------------------------------------

keys = st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.text(max_size=12).filter(lambda s: "\x00" not in s)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.uuids()
    | st.datetimes(timezones=st.just(UTC))
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
mappings = st.none() | st.dictionaries(keys, json_values, max_size=5)
names = st.text(min_size=1, max_size=16).filter(lambda s: "\x00" not in s)
entry = st.fixed_dictionaries(
    {
        "actor": names,
        "action": names,
        "target": names,
        "before": mappings,
        "after": mappings,
        "request_id": st.none() | names,
    }
)
# Tampering tests need many chains, not deep values: keep their records light.
light_mappings = st.none() | st.dictionaries(st.sampled_from("abc"), scalars, max_size=3)
light_entry = st.fixed_dictionaries(
    {
        "actor": st.sampled_from(("user:1", "cli:ops", "system:worker")),
        "action": names,
        "target": names,
        "before": light_mappings,
        "after": light_mappings,
        "request_id": st.none() | names,
    }
)
chains = st.lists(light_entry, min_size=1, max_size=10).map(build_chain)


@settings(max_examples=200, deadline=None)
@given(entry)
def test_stored_values_rehash_identically_after_a_json_round_trip(values: dict) -> None:
    sealed = seal(ChainHead(), recorded_at=T0, **values)
    stored = sealed.replace(
        before=json.loads(json.dumps(sealed.before)), after=json.loads(json.dumps(sealed.after))
    )
    assert find_break([stored], ChainHead(1, sealed.hash)) is None


# --- finding the first broken record --------------------------------------------------------


def test_an_intact_chain_and_an_empty_chain_verify() -> None:
    records, head = simple_chain(5)
    assert find_break(records, head) is None
    assert find_break([], ChainHead()) is None


def test_a_modified_record_is_named() -> None:
    records, head = simple_chain(5)
    records[2] = records[2].replace(after={"status": "approved", "amount": "9999.50"})
    broken = find_break(records, head)
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "hash")
    assert broken.reason == "hash mismatch — the record was modified"


def test_a_deleted_middle_record_is_named() -> None:
    records, head = simple_chain(5)
    del records[2]
    broken = find_break(records, head)
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "missing")
    assert "deleted" in broken.reason


def test_a_deleted_last_record_is_caught_by_the_head() -> None:
    records, head = simple_chain(5)
    del records[-1]
    broken = find_break(records, head)
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, "head")
    assert "last record was deleted" in broken.reason


def test_an_emptied_chain_is_caught_by_the_head() -> None:
    _, head = simple_chain(3)
    broken = find_break([], head)
    assert broken is not None and (broken.seq, broken.kind) == (1, "head")


def test_swapped_records_are_named_at_the_first_one() -> None:
    records, head = simple_chain(5)
    records[1], records[3] = (
        records[3].replace(seq=2),
        records[1].replace(seq=4),
    )
    broken = find_break(records, head)
    assert broken is not None
    assert (broken.seq, broken.kind) == (2, "link")
    assert "reordered" in broken.reason


def test_a_record_appended_behind_the_heads_back_is_caught() -> None:
    records, head = simple_chain(3)
    forged = seal(head, recorded_at=T0, actor="x:y", action="forged", target="t")
    broken = find_break([*records, forged], head)
    assert broken is not None and (broken.seq, broken.kind) == (4, "head")


def test_the_walker_counts_intact_records_before_the_break() -> None:
    records, head = simple_chain(6)
    records[4] = records[4].replace(actor="user:mallory")
    walker = ChainWalker()
    for record in records:
        walker.feed(record)
    assert walker.finish(head) is not None
    assert walker.checked == 4


# --- R9: every single-row tampering is detected and named -----------------------------------
# The Hypothesis tests below run 500 + 250 + 250 + 100 random tamperings and the seeded
# campaign 1,000 more; each must be detected at the tampered record.


def _changed(value: Any, data: st.DataObject, field: str) -> Any:
    if field == "recorded_at":
        return value + timedelta(microseconds=data.draw(st.integers(1, 10**9)))
    if field in ("prev_hash", "hash"):
        new = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    elif field in ("before", "after"):
        new = data.draw(light_mappings)
        new = None if new is None else normalise(new)
    elif field == "request_id":
        new = data.draw(st.none() | names)
    elif field == "seq":
        return value + data.draw(st.integers(1000, 2000))  # renumbered past the end
    else:
        new = data.draw(names)
    assume(canonical_json(new) != canonical_json(value))
    return new


@settings(max_examples=500, deadline=None)
@given(chains, st.data())
def test_any_modified_column_of_any_record_is_named(chain: Any, data: st.DataObject) -> None:
    records, head = chain
    index = data.draw(st.integers(0, len(records) - 1))
    field = data.draw(st.sampled_from((*COLUMNS, "prev_hash", "hash", "seq")))
    record = records[index]
    records[index] = record.replace(**{field: _changed(getattr(record, field), data, field)})
    records.sort(key=lambda r: r.seq)  # the verifier reads in seq order
    broken = find_break(records, head)
    assert broken is not None and broken.seq == index + 1


@settings(max_examples=250, deadline=None)
@given(chains, st.data())
def test_any_deleted_record_is_named(chain: Any, data: st.DataObject) -> None:
    records, head = chain
    index = data.draw(st.integers(0, len(records) - 1))
    del records[index]
    broken = find_break(records, head)
    assert broken is not None and broken.seq == index + 1


@settings(max_examples=250, deadline=None)
@given(chains.filter(lambda c: len(c[0]) >= 2), st.data())
def test_any_two_swapped_records_are_named(chain: Any, data: st.DataObject) -> None:
    records, head = chain
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(records) - 1), min_size=2, max_size=2, unique=True))
    )
    # What a reordering looks like in the table: the seqs stay, the contents trade places.
    records[i], records[j] = records[j].replace(seq=i + 1), records[i].replace(seq=j + 1)
    broken = find_break(records, head)
    assert broken is not None and broken.seq == i + 1


@settings(max_examples=100, deadline=None)
@given(chains.filter(lambda c: len(c[0]) >= 2), st.data())
def test_records_fed_out_of_order_are_caught(chain: Any, data: st.DataObject) -> None:
    records, head = chain
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(records) - 1), min_size=2, max_size=2, unique=True))
    )
    records[i], records[j] = records[j], records[i]
    broken = find_break(records, head)
    assert broken is not None and broken.seq == i + 1


def test_a_seeded_campaign_of_1000_tamperings_is_fully_detected() -> None:
    rng = random.Random(20250131)
    detected = 0
    for round_ in range(1000):
        records, head = simple_chain(rng.randint(1, 25))
        index = rng.randrange(len(records))
        kind = rng.choice(["modify", "delete", "swap"] if len(records) > 1 else ["modify"])
        if kind == "modify":
            field = rng.choice(COLUMNS)
            value = getattr(records[index], field)
            if field == "recorded_at":
                new: Any = value + timedelta(microseconds=rng.randint(1, 10**6))
            elif field in ("before", "after"):
                new = {"tampered": round_} if value != {"tampered": round_} else None
            else:
                new = f"{value}~"
            records[index] = records[index].replace(**{field: new})
        elif kind == "delete":
            del records[index]
        else:
            other = rng.choice([k for k in range(len(records)) if k != index])
            i, j = sorted((index, other))
            records[i], records[j] = records[j].replace(seq=i + 1), records[i].replace(seq=j + 1)
            index = i
        broken = find_break(records, head)
        assert broken is not None and broken.seq == index + 1, (round_, kind, broken)
        detected += 1
    assert detected == 1000
