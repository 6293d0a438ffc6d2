"""What a notification channel is given (``Notification``), what it answers (``Delivery``), and
how it fails: permanently (do not retry) or temporarily (retry the same notification later).

A notification is sent from the outbox, at least once. Its ``idempotency_key`` is stable for one
message (the event and its recipients), so a retry of the same notification is recognisable
downstream: the e-mail channel derives the Message-ID from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from propdesk.errors import FieldProblem, PropdeskError


def idempotency_key(event_id: object, *recipients: str) -> str:
    """A key stable per event and recipients: ``"<event id>:<address>[,<address>...]"``.

    Addresses are compared without case and in any order, so the same event sent again to the
    same people yields the same key.
    """
    addresses = sorted({address.strip().lower() for address in recipients})
    return f"{event_id}:{','.join(addresses)}"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one or more people of one desk.

    ``recipients`` all see one another (on e-mail, they are all in ``To``): send a trader's and
    the desk's staff's notifications separately.
    """

    #: The desk's slug.
    tenant: str
    #: What happened, as a domain-event name: ``"challenge.failed"``, ``"payout.approved"``.
    kind: str
    #: E-mail addresses (``name@domain``, no display names); channels validate them.
    recipients: tuple[str, ...]
    #: One line.
    subject: str
    #: The plain-text body; always sent.
    text: str
    #: Stable per event and recipients (see ``idempotency_key``): the same for every retry.
    idempotency_key: str
    #: An HTML alternative of ``text``, for channels that can show it.
    html: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.recipients, str):
            raise ValueError(
                f"recipients must be a tuple of addresses, not the string {self.recipients!r}"
            )
        recipients = tuple(self.recipients)
        if not recipients:
            raise ValueError(f"notification {self.idempotency_key!r} has no recipients")
        for index, recipient in enumerate(recipients):
            if not isinstance(recipient, str):
                raise ValueError(f"recipients[{index}] is {recipient!r}, not an address")
        object.__setattr__(self, "recipients", recipients)
        for name in ("tenant", "kind", "subject", "idempotency_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"notification {name} must be a non-empty string")
            if "\r" in value or "\n" in value:
                raise ValueError(f"notification {name} must be one line, got {value!r}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A recipient the server refused, with its reply (``"550 5.1.1 no such user"``)."""

    recipient: str
    reply: str
    #: ``True`` for a 5xx reply: sending again to this recipient cannot succeed.
    permanent: bool

    def __str__(self) -> str:
        return f"{self.recipient}: {self.reply}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a channel's server accepted.

    ``refused`` lists recipients refused while others were accepted; when every recipient is
    refused the channel raises instead. To retry the temporarily refused ones, send a
    notification with only them and the same idempotency key.
    """

    #: The channel's code (``"email"``).
    channel: str
    #: The message's identifier as the recipients see it (an e-mail Message-ID, ``<...@...>``).
    message_id: str
    #: The recipients the server took the message for.
    accepted: tuple[str, ...]
    refused: tuple[Refusal, ...] = ()
    #: The text of the server's reply accepting the message, for the log (``"OK queued as 4F"``).
    reply: str = ""


class DeliveryError(PropdeskError):
    """A notification was not delivered. ``permanent`` tells the caller whether to retry."""

    status = 502
    title = "Notification not delivered"
    slug = "notification-not-delivered"
    #: ``True``: sending the same notification again cannot succeed; do not retry.
    permanent: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        channel: str,
        reply_code: int | None = None,
        refused: tuple[Refusal, ...] = (),
        problems: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(detail, problems=problems)
        #: The channel's code.
        self.channel = channel
        #: The server's reply code when the server refused (550, 451, ...); ``None`` otherwise.
        self.reply_code = reply_code
        #: Per-recipient refusals, when the server refused recipients.
        self.refused = refused


class PermanentDeliveryError(DeliveryError):
    """The server refused the message for good (an SMTP 5xx), or the message cannot be sent as
    it is (an invalid address). Retrying the same notification cannot succeed."""

    permanent = True


class TemporaryDeliveryError(DeliveryError):
    """The server was unreachable, timed out, refused for now (an SMTP 4xx), or the desk's
    channel settings do not work yet (credentials refused, secret not set). Retry the same
    notification later, with back-off."""

    permanent = False


class InvalidRecipient(PermanentDeliveryError):
    """A recipient is not a valid e-mail address; nothing was sent."""

    def __init__(self, address: str, index: int, reason: str, *, channel: str) -> None:
        detail = f"recipient {address!r} is not a valid e-mail address: {reason}"
        super().__init__(
            detail, channel=channel, problems=[FieldProblem(f"/recipients/{index}", reason)]
        )
        #: The address as given.
        self.address = address
