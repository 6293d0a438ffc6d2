"""Notifications as values: what a channel is given, and the key that makes a retry visible."""

from __future__ import annotations

from typing import Any

import pytest

from propdesk.notifications import Notification, idempotency_key


def notification(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "tenant": "acme",
        "kind": "challenge.failed",
        "recipients": ("trader@example.com",),
        "subject": "Challenge failed",
        "text": "Your account breached the daily loss limit.",
        "idempotency_key": "evt-1:trader@example.com",
    }
    return Notification(**(values | overrides))


def test_the_idempotency_key_is_stable_per_event_and_recipients() -> None:
    assert idempotency_key("evt-1", "Risk@Example.com", "trader@example.com") == (
        "evt-1:risk@example.com,trader@example.com"
    )
    assert idempotency_key("evt-1", "trader@example.com", "risk@example.com") == idempotency_key(
        "evt-1", "RISK@example.com", "trader@example.com"
    )
    assert idempotency_key("evt-1", "a@example.com") != idempotency_key("evt-2", "a@example.com")


def test_a_notification_is_a_frozen_value_with_a_tuple_of_recipients() -> None:
    made = notification(recipients=["trader@example.com", "risk@example.com"])
    assert made.recipients == ("trader@example.com", "risk@example.com")
    assert made.html is None
    with pytest.raises(AttributeError):
        made.subject = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recipients": "trader@example.com"}, "not the string"),
        ({"recipients": ()}, "no recipients"),
        ({"recipients": ("a@example.com", None)}, r"recipients\[1\]"),
        ({"subject": "Challenge failed\r\nBcc: eve@example.com"}, "subject must be one line"),
        ({"idempotency_key": ""}, "idempotency_key must be a non-empty string"),
        ({"tenant": " "}, "tenant must be a non-empty string"),
        ({"kind": None}, "kind must be a non-empty string"),
    ],
)
def test_a_malformed_notification_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notification(**overrides)
