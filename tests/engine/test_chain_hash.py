"""The replay input hash is a hash chain the engine keeps event by event."""

from __future__ import annotations

import hashlib
import json
import pickle
from datetime import UTC, datetime

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.product import content_hash
from propdesk.engine.bench import BENCH_PRODUCT
from propdesk.engine.chain import InputChain
from propdesk.engine.replay import replay
from propdesk.plugins.manager import PluginHost
from propdesk.rules.events import canonical, canonical_json, parse_event
from propdesk.settings import get_settings

FAMILIES = rule_families(PluginHost.load(get_settings()))
ROWS = [
    {"type": "account_opened", "time": "2026-03-02T08:00:00+01:00", "balance": "100000"},
    {"type": "snapshot", "time": "2026-03-02T08:30:00+01:00", "balance": "100000", "equity": "1"},
    {"type": "clock", "time": "2026-03-03T00:00:00+01:00"},
]


def test_replay_names_its_inputs_with_the_documented_chain() -> None:
    events = [parse_event(row) for row in ROWS]
    until = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    verdict = replay(BENCH_PRODUCT, "phase1", events, FAMILIES, size="100k", until=until)

    head = {"product": content_hash(BENCH_PRODUCT), "phase": "phase1", "size": "100k"}
    state = hashlib.sha256(
        b"propdesk-inputs-v1\n" + canonical_json({**head, "addons": []}).encode()
    ).digest()
    for event in events:
        state = hashlib.sha256(state + canonical_json(canonical(event)).encode()).digest()
    tail = json.dumps({"until": "2026-03-03T01:00:00Z"}, separators=(",", ":")).encode()
    assert verdict["input_sha256"] == hashlib.sha256(state + tail).hexdigest()


def test_the_chain_pickles_and_every_input_counts() -> None:
    chain = InputChain.start("sha256:ab", "phase1", None, ["swap-free"])
    until = datetime(2026, 3, 3, tzinfo=UTC)
    before = chain.hexdigest(until)
    chain.add(b'{"time":"2026-03-02T07:00:00Z","type":"clock"}')
    thawed = pickle.loads(pickle.dumps(chain))  # noqa: S301 (our own bytes)
    assert thawed == chain and thawed.hexdigest(until) == chain.hexdigest(until) != before
    assert chain.hexdigest(datetime(2026, 3, 4, tzinfo=UTC)) != chain.hexdigest(until)
    other = InputChain.start("sha256:ab", "phase1", None, [])
    other.add(b'{"time":"2026-03-02T07:00:00Z","type":"clock"}')
    assert other.hexdigest(until) != chain.hexdigest(until)
