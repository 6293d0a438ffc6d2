"""The rulebook a trader reads, written from the same product JSON the engine runs.

Markdown first (each rule in its family's own words, ``describe``), then HTML from that
Markdown. Product text is data, never markup: names and codes are escaped for Markdown, the
description is Markdown with raw HTML turned off, and markdown-it refuses ``javascript:``
links, so nothing in a product can inject HTML into a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

from propdesk.catalogue.product import (
    RuleSpec,
    effective_phase,
    merge_patch,
    phase_context,
    phases,
)
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.money import money, parse_decimal, pct

CADENCES = {
    "on_demand": "whenever you request it",
    "weekly": "once a week",
    "biweekly": "every two weeks",
    "monthly": "once a month",
}
KINDS = {
    "evaluation": "evaluation",
    "funded": "funded account",
    "instant": "instant funding (funded from the start)",
}

#: Characters that mean something inline in Markdown; "(" and ")" only follow an escaped "]".
_INLINE = re.compile(r"([\\`*_\[\]<>|~!&])")
#: What makes a line a heading, list, quote, rule or table at its start.
_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+$|\d{1,9}(?=[.)](\s|$)))")


def text(value: object) -> str:
    """Plain product text as Markdown that renders exactly as written (one line)."""
    escaped = _INLINE.sub(r"\\\1", " ".join(str(value).split()))
    match = _LINE_START.match(escaped)
    if match is None:
        return escaped
    if match.group(1)[0].isdigit():
        end = match.end()
        return escaped[:end] + "\\" + escaped[end:]
    return "\\" + escaped


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _amount(value: str, currency: str) -> str:
    return f"{money(parse_decimal(value))} {currency}"


def _prices(prices: Mapping[str, str], first: str = "") -> str:
    """Prices in the account currency first, then by currency code (stored JSON keeps no
    key order)."""
    order = sorted(prices, key=lambda c: (c != first, c))
    return " · ".join(_amount(prices[c], c) for c in order)


def _percent(value: str) -> str:
    return pct(parse_decimal(value))


def _describe(
    rule: RuleSpec, families: Mapping[str, type[RuleFamily]], context: PhaseContext
) -> str:
    family = families.get(rule.family)
    if family is None:
        return f"**{text(rule.family)}** (this rule family is not installed)"
    return f"**{text(family.display_name)}.** {text(family.describe(rule.params, context))}"


def _payout_lines(payout: Mapping[str, Any], currency: str) -> list[str]:
    lines = []
    split = f"Profit split: you keep {_percent(payout['split_percent'])} of the profit"
    tiers = [
        f"{_percent(t['split_percent'])} from your {ordinal(t['from_payout'])} payout"
        for t in payout.get("split_tiers", ())
    ]
    lines.append(split + (f" ({'; '.join(tiers)})" if tiers else "") + ".")
    days = payout.get("first_after_days", 0)
    if days:
        lines.append(f"First payout: {days} days after your funded account starts at the earliest.")
    if "cadence" in payout:
        lines.append(f"Payouts: {CADENCES[payout['cadence']]}.")
    if parse_decimal(payout.get("min_amount", "0")):
        lines.append(f"Minimum payout: {_amount(payout['min_amount'], currency)}.")
    if "profit_cap_percent" in payout:
        lines.append(
            f"Profit cap: at most {_percent(payout['profit_cap_percent'])} of the initial "
            "balance per payout."
        )
    if payout.get("flat_required", True):
        lines.append("All positions must be closed when you request a payout.")
    consistency = payout.get("consistency")
    if consistency:
        lines.append(
            f"Consistency: your best day may be at most "
            f"{_percent(consistency['best_day_max_percent'])} of the profit of the payout period."
        )
    if payout.get("kyc_required", True):
        lines.append("Your identity must be verified (KYC) before your first payout.")
    return lines


def _scaling_text(scaling: Mapping[str, Any] | None, currency: str) -> str:
    if not scaling:
        return "No scaling plan."
    conditions = [f"made at least {_percent(scaling['min_profit_percent'])} net profit"]
    if scaling.get("min_payouts"):
        conditions.append(f"received at least {scaling['min_payouts']} payouts")
    months = scaling["cycle_months"]
    sentence = (
        f"Every {months} month{'s' if months != 1 else ''}, if you {' and '.join(conditions)} "
        f"over that period, your balance grows by {_percent(scaling['balance_increase_percent'])}"
        " of the initial balance"
    )
    if "max_balance" in scaling:
        sentence += f", up to {_amount(scaling['max_balance'], currency)}"
    if "split_percent" in scaling:
        sentence += f", and your profit split becomes {_percent(scaling['split_percent'])}"
    return sentence + "."


def _effect_lines(
    data: Mapping[str, Any], effects: Sequence[Mapping[str, Any]], families: Any, code: str
) -> list[str]:
    lines = []
    names = {p.code: p.name for p in phases(data)}
    currency = data["currency"]
    for effect in effects:
        op = effect["op"]
        if op in ("set_rule", "remove_rule"):
            for phase in phases(data):
                if effect.get("phases") is not None and phase.code not in effect["phases"]:
                    continue
                try:
                    changed = effective_phase(data, phase.code, addons=[code])
                except ValueError:
                    continue
                before_ids = {r.id for r in phase.rules}
                if effect["rule"] not in before_ids:
                    continue
                where = text(names[phase.code])
                if op == "remove_rule":
                    family = families.get(phase.rule(effect["rule"]).family)
                    title = family.display_name if family else effect["rule"]
                    lines.append(f"{where}: no {text(title).lower()} rule.")
                else:
                    rule = changed.rule(effect["rule"])
                    described = _describe(rule, families, phase_context(data, phase.code))
                    lines.append(f"{where}: {described}")
        elif op == "set_payout":
            payout = merge_patch(data["payout"], effect["payout"])
            changed_keys = set(effect["payout"])
            for line in _payout_lines(payout, currency):
                if _mentions(line, changed_keys):
                    lines.append(text(line))
        elif op == "set_scaling":
            scaling = (
                None
                if effect["scaling"] is None
                else merge_patch(data.get("scaling"), effect["scaling"])
            )
            lines.append("Scaling: " + text(_scaling_text(scaling, currency)))
    return lines


_PAYOUT_WORDS = {
    "split_percent": "Profit split",
    "split_tiers": "Profit split",
    "first_after_days": "First payout",
    "cadence": "Payouts:",
    "min_amount": "Minimum payout",
    "profit_cap_percent": "Profit cap",
    "flat_required": "positions must be closed",
    "consistency": "Consistency",
    "kyc_required": "KYC",
}


def _mentions(line: str, keys: set[str]) -> bool:
    return any(_PAYOUT_WORDS.get(key, "\0") in line for key in keys)


def rulebook_markdown(data: Mapping[str, Any], families: Mapping[str, type[RuleFamily]]) -> str:
    """The rulebook of a valid product, as Markdown."""
    currency = data["currency"]
    day = data["trading_day"]
    out = [f"# {text(data['name'])}", ""]
    if data.get("description"):
        out += [str(data["description"]).strip(), ""]
    out += [
        f"Account currency: {text(currency)}. Trading days start at "
        f"{text(day['time'])} {text(day['timezone'])}.",
        "",
        "## Account sizes and prices",
        "",
        "| Size | Starting balance | Price |",
        "| --- | --- | --- |",
    ]
    for entry in data["sizes"]:
        out.append(
            f"| {text(entry['code'])} | {text(_amount(entry['balance'], currency))} "
            f"| {text(_prices(entry['prices'], currency))} |"
        )
    out.append("")
    out += ["## Phases", ""]
    for number, phase in enumerate(phases(data), start=1):
        context = phase_context(data, phase.code)
        out += [
            f"### {number}. {text(phase.name)}",
            "",
            f"- Kind: {text(KINDS[phase.kind])}",
            f"- Platform: {text(phase.platform)}",
            f"- Leverage: 1:{phase.leverage}",
            "",
        ]
        if not phase.rules:
            out += ["No trading rules in this phase.", ""]
        else:
            out += ["Rules:", ""]
        for rule in phase.rules:
            out.append(f"- {_describe(rule, families, context)}")
            family = families.get(rule.family)
            for entry in data["sizes"]:
                if family is None or rule.id not in entry.get("overrides", {}):
                    continue
                sized = effective_phase(data, phase.code, entry["code"]).rule(rule.id)
                sentence = family.describe(sized.params, context)
                if sentence != family.describe(rule.params, context):
                    out.append(f"  - With the {text(entry['code'])} account: {text(sentence)}")
        out.append("")
    addons = data.get("addons") or []
    if addons:
        out += ["## Add-ons", ""]
        for entry in addons:
            out += [f"### {text(entry['name'])} ({text(_prices(entry['prices'], currency))})", ""]
            if entry.get("description"):
                out += [text(entry["description"]), ""]
            for line in _effect_lines(data, entry["effects"], families, entry["code"]):
                out.append(f"- {line}")
            out.append("")
    out += ["## Payouts", ""]
    out += [f"- {text(line)}" for line in _payout_lines(data["payout"], currency)]
    out += ["", "## Scaling plan", "", text(_scaling_text(data.get("scaling"), currency)), ""]
    out += ["## Resets, retries and refunds", ""]
    out += [f"- {text(line)}" for line in _after_failure(data)]
    return "\n".join(out).rstrip() + "\n"


def _after_failure(data: Mapping[str, Any]) -> list[str]:
    lines = []
    reset = data.get("reset")
    if reset:
        lines.append(
            f"Reset: after a failed attempt you can start the same size again for "
            f"{_prices(reset['prices'], data['currency'])}."
        )
    else:
        lines.append("Reset: not offered.")
    retry = data.get("retry")
    if retry:
        lines.append(
            f"Retry: {_percent(retry['discount_percent'])} off a new challenge bought within "
            f"{retry['within_days']} days of a failed attempt."
        )
    refund = data.get("fee_refund")
    if refund:
        lines.append(
            f"Fee refund: the challenge fee is refunded with your "
            f"{ordinal(refund['with_payout'])} payout."
        )
    else:
        lines.append("Fee refund: the challenge fee is not refunded.")
    return lines


def markdown_to_html(markdown: str) -> str:
    """HTML of Markdown with raw HTML escaped (CommonMark, tables on)."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return str(renderer.render(markdown))


def rulebook_html(data: Mapping[str, Any], families: Mapping[str, type[RuleFamily]]) -> str:
    """The rulebook of a valid product, as an HTML fragment."""
    return markdown_to_html(rulebook_markdown(data, families))
