"""What traders and risk staff are told when a challenge moves: subject and plain text.

Pure functions of the outbox event's payload (``challenge.<event>``) and the desk's name, so
that the texts can be read and tested apart from sending them. ``None`` means nobody is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: Events the trader hears about (the account's credentials come with provisioning).
TRADER_EVENTS = ("breached", "paused", "resumed", "reinstate", "expired", "passed")
#: Events the desk's risk staff hear about.
RISK_EVENTS = ("breached", "paused", "expired")


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str


def _phase(payload: Mapping[str, Any]) -> str:
    code = payload.get("phase_code") or f"phase {int(payload.get('phase', 0)) + 1}"
    return f"{code} (attempt {payload.get('attempt', 1)})"


def _challenge(payload: Mapping[str, Any]) -> str:
    size = f" {payload['size']}" if payload.get("size") else ""
    return f"challenge #{payload.get('challenge_id')} ({payload.get('product_code')}{size})"


def _why(payload: Mapping[str, Any]) -> str:
    rule = payload.get("rule")
    explanation = payload.get("explanation") or ""
    if rule and explanation:
        return f"Rule {rule}: {explanation}"
    return explanation or (f"Rule {rule}." if rule else "")


def trader_message(event: str, payload: Mapping[str, Any], desk: str) -> Message | None:
    """What the trader reads about ``event`` (``"breached"``, ...), or ``None``."""
    challenge, phase, account = _challenge(payload), _phase(payload), payload.get("account")
    why = _why(payload)
    match event:
        case "breached":
            subject = f"{desk}: your {challenge} has failed"
            body = (
                f"Your account {account} broke a rule of {phase} and the challenge has failed.\n"
                f"{why}\n\nTrading on the account is now disabled."
            )
        case "paused":
            subject = f"{desk}: trading paused on your {challenge}"
            body = (
                f"Trading on your account {account} ({phase}) is paused until the rule resets.\n"
                f"{why}"
            )
        case "resumed" | "reinstate":
            subject = f"{desk}: you can trade again on your {challenge}"
            reason = payload.get("reason") or why
            body = f"Trading on your account {account} ({phase}) is enabled again.\n{reason}"
        case "expired":
            subject = f"{desk}: your {challenge} has expired"
            body = (
                f"The time allowed for {phase} is over and the challenge has expired.\n{why}\n\n"
                f"Trading on the account {account} is now disabled."
            )
        case "refunded":
            subject = f"{desk}: your {challenge} is closed"
            body = (
                f"Your fee was refunded, so the challenge is closed.\n"
                f"{payload.get('reason') or why}\n\nTrading on the account {account} is now "
                "disabled."
            )
        case "passed":
            subject = f"{desk}: you passed {phase} of your {challenge}"
            body = (
                f"Congratulations: account {account} met every objective of {phase}.\n{why}\n\n"
                "Your account for the next phase is being set up; its login follows by e-mail."
            )
        case _:
            return None
    return Message(subject, f"{body.rstrip()}\n\n{desk}\n")


def risk_message(event: str, payload: Mapping[str, Any], desk: str) -> Message | None:
    """What the desk's risk staff read about ``event``, or ``None``."""
    if event not in RISK_EVENTS:
        return None
    verb = {"breached": "failed", "paused": "paused", "expired": "expired"}[event]
    account = payload.get("account")
    subject = f"[{desk}] {_challenge(payload)} {verb}: {account}"
    lines = [
        f"Challenge #{payload.get('challenge_id')} {verb} on account {account}, {_phase(payload)}.",
        f"Trader: {payload.get('trader_email') or '-'}",
        f"Product: {payload.get('product_code')} {payload.get('size') or ''} "
        f"(version {payload.get('version_hash')})".rstrip(),
        f"Rule: {payload.get('rule') or '-'}",
        f"Why: {payload.get('explanation') or '-'}",
        f"At: {payload.get('at')}",
    ]
    return Message(subject, "\n".join(lines) + "\n")


def credentials_message(
    *,
    desk: str,
    trader_name: str,
    challenge_id: int,
    phase: str,
    platform: str,
    login: str,
    server: str,
    password: str,
    balance: Decimal,
    currency: str,
) -> Message:
    """The one message that carries a new account's password (never stored anywhere)."""
    greeting = f"Hello {trader_name}," if trader_name else "Hello,"
    text = (
        f"{greeting}\n\n"
        f"Your trading account for {phase} of challenge #{challenge_id} is ready.\n\n"
        f"  Platform: {platform}\n"
        f"  Server:   {server}\n"
        f"  Login:    {login}\n"
        f"  Password: {password}\n"
        f"  Balance:  {balance:,.2f} {currency}\n\n"
        "Keep this password safe: we do not store it and cannot send it again.\n\n"
        f"{desk}\n"
    )
    return Message(f"{desk}: your account {login} for {phase} is ready", text)
