"""Notifications to traders and desk staff, through channels that plugins register.

``Notification`` is what a channel sends, ``Delivery`` what it answers; a failed send raises a
``PermanentDeliveryError`` (do not retry) or a ``TemporaryDeliveryError`` (retry the same
notification later). The core's channel is ``email`` (plugin ``propdesk.email``, SMTP).
"""

from propdesk.notifications.channels import desk_channels
from propdesk.notifications.message import (
    Delivery,
    DeliveryError,
    InvalidRecipient,
    Notification,
    PermanentDeliveryError,
    Refusal,
    TemporaryDeliveryError,
    idempotency_key,
)

__all__ = [
    "Delivery",
    "DeliveryError",
    "InvalidRecipient",
    "Notification",
    "PermanentDeliveryError",
    "Refusal",
    "TemporaryDeliveryError",
    "desk_channels",
    "idempotency_key",
]
