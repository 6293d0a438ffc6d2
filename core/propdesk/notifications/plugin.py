"""The core's ``email`` notification channel, registered through the plugin contract.

Registered as the core plugin ``propdesk.email``; a desk turns e-mail on by configuring it
(``[plugins."propdesk.email"]`` in its manifest, validated against ``EMAIL_SETTINGS_SCHEMA``).
"""

from __future__ import annotations

from typing import Any

from propdesk.notifications.email_channel import EMAIL_SETTINGS_SCHEMA, EmailChannel
from propdesk.plugins.components import NotificationChannel
from propdesk.plugins.markers import hookimpl


@hookimpl
def propdesk_register_notification_channels() -> list[type[NotificationChannel]]:
    return [EmailChannel]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return EMAIL_SETTINGS_SCHEMA
