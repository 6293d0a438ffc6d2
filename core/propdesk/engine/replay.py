"""Evaluate one phase of a product against an event history: the verdict, reproducibly.

The verdict names the product version (its content hash) and a sha256 of the canonical
inputs (product hash, phase, size, add-ons, every event in canonical form and the evaluation
time, chained as ``propdesk.engine.chain`` says), so anyone holding the same files gets the
same verdict byte for byte, and the engine, keeping the chain event by event, the same hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.product import build_rules, content_hash, effective_phase, phase_context
from propdesk.engine.chain import InputChain
from propdesk.rules.clock import utc
from propdesk.rules.evaluator import Evaluation
from propdesk.rules.events import Event, EventError, canonical, canonical_json
from propdesk.rules.family import RuleFamily

__all__ = ["render", "replay", "rule_families"]


def replay(
    product: Mapping[str, Any],
    phase: str,
    events: Sequence[Event],
    families: Mapping[str, type[RuleFamily]],
    *,
    size: str | None = None,
    addons: Sequence[str] = (),
    until: datetime | None = None,
) -> dict[str, Any]:
    """The verdict of ``events`` under ``phase`` of ``product`` at ``until``."""
    if not events:
        raise EventError("no events: the history must start with account_opened")
    if until is None:
        until = events[-1].time
    elif until < events[-1].time:
        raise EventError(f"--until {utc(until)} is before the last event ({utc(events[-1].time)})")
    spec = effective_phase(product, phase, size, tuple(addons))
    rules = build_rules(spec, families, phase_context(product, phase))
    evaluation = Evaluation(rules)
    for number, event in enumerate(events, start=1):
        try:
            evaluation.feed(event)
        except EventError as exc:
            raise EventError(exc.reason, number) from None
    evaluation.advance(until)
    version = content_hash(product)
    chain = InputChain.start(version, phase, size, addons)
    for event in events:
        chain.add(canonical_json(canonical(event)).encode())
    return {
        "product": {"code": product.get("code"), "version_hash": version},
        "phase": phase,
        "size": size,
        "addons": list(addons),
        **evaluation.verdict(),
        "events": len(events),
        "input_sha256": chain.hexdigest(until),
    }


def render(verdict: Mapping[str, Any]) -> str:
    """The verdict as one canonical JSON line."""
    return canonical_json(verdict)
