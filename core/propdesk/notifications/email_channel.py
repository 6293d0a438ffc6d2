"""The core's ``email`` notification channel: SMTP through ``aiosmtplib``.

A desk configures it in its manifest (plugin ``propdesk.email``)::

    [plugins."propdesk.email"]
    host = "smtp.example.com"
    security = "starttls"              # none | starttls (default) | tls
    username = "alerts@desk.example"
    password = { env = "DESK_SMTP_PASSWORD" }
    from_address = "risk@desk.example"
    from_name = "Desk Risk"

Every message gets a Message-ID derived from the desk and the notification's idempotency key,
so a retry of one notification carries the same Message-ID and is recognisable downstream. The
password is read from the environment each time a message is sent and never kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, ClassVar

import aiosmtplib
from jsonschema import Draft202012Validator, ValidationError

from propdesk.errors import ConfigurationError, FieldProblem, InvalidInput
from propdesk.notifications.message import (
    Delivery,
    InvalidRecipient,
    Notification,
    PermanentDeliveryError,
    Refusal,
    TemporaryDeliveryError,
)
from propdesk.tenancy.secrets import SECRET_REF, resolve_secrets

CODE = "email"
SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}

#: Settings of the ``email`` channel (the ``propdesk.email`` plugin's per-desk settings).
EMAIL_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["host", "from_address"],
    "properties": {
        "host": {"type": "string", "minLength": 1, "description": "The SMTP server's host name."},
        "port": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535,
            "description": "Defaults to 25 (none), 587 (starttls) or 465 (tls).",
        },
        "security": {
            "enum": list(SECURITY),
            "default": "starttls",
            "description": "none: plain text; starttls: upgrade after connecting; tls: TLS from "
            "the start (SMTPS).",
        },
        "username": {"type": "string", "minLength": 1},
        "password": SECRET_REF,
        "from_address": {"type": "string", "format": "email", "minLength": 3},
        "from_name": {"type": "string", "minLength": 1, "maxLength": 120},
        "reply_to": {"type": "string", "format": "email", "minLength": 3},
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 300,
            "default": 30,
            "description": "Seconds allowed for each step of the SMTP conversation.",
        },
    },
    "dependentRequired": {"username": ["password"], "password": ["username"]},
}

_VALIDATOR = Draft202012Validator(
    EMAIL_SETTINGS_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


def parse_address(text: str) -> str:
    """``text`` as a bare ``name@domain`` address (an IDN domain in its ASCII form).

    :raises ValueError: saying what is wrong; display names (``Bob <bob@x.org>``) and lists are
        refused.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a string")
    candidate = text.strip()
    if not candidate:
        raise ValueError("is empty")
    if "\r" in candidate or "\n" in candidate:
        raise ValueError("contains a line break")
    try:
        address = Address(addr_spec=candidate)
    except (ValueError, IndexError, HeaderParseError) as exc:
        reason = str(exc) or type(exc).__name__
        raise ValueError(f"write it as name@domain without a display name ({reason})") from None
    if not address.username or not address.domain:
        raise ValueError("write it as name@domain")
    domain = address.domain
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"the domain {address.domain!r} is not a valid host name") from None
    return f"{address.addr_spec.rsplit('@', 1)[0]}@{domain}"


def message_id_for(tenant: str, idempotency_key: str, domain: str) -> str:
    """The Message-ID of a desk's notification: the same for every retry of it."""
    digest = hashlib.sha256(f"{tenant}\n{idempotency_key}".encode()).hexdigest()[:32]
    return f"<propdesk.{digest}@{domain}>"


def _pointer(error: ValidationError) -> FieldProblem:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and "'" in error.message:
        return FieldProblem("/" + "/".join([*path, error.message.split("'")[1]]), "is required")
    return FieldProblem("/" + "/".join(path), error.message)


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """A desk's validated ``email`` settings. The password stays a reference."""

    host: str
    port: int
    security: str
    from_address: str
    from_name: str | None = None
    reply_to: str | None = None
    username: str | None = None
    #: ``{"env": "NAME"}``: read from the environment at each send.
    password: Mapping[str, str] | None = None
    timeout: float = 30.0

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> EmailSettings:
        """Validate ``settings``; raises ``InvalidInput`` with a JSON pointer per problem."""
        data = dict(settings)
        problems = [
            _pointer(error)
            for error in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
        ]
        addresses: dict[str, str | None] = {}
        for name in ("from_address", "reply_to"):
            value = data.get(name)
            addresses[name] = None
            if isinstance(value, str) and not any(p.field == f"/{name}" for p in problems):
                try:
                    addresses[name] = parse_address(value)
                except ValueError as exc:
                    problems.append(FieldProblem(f"/{name}", f"{value!r}: {exc}"))
        if problems:
            raise InvalidInput("invalid e-mail channel settings", problems=problems)
        security = data.get("security", "starttls")
        from_address = addresses["from_address"]
        assert from_address is not None
        return cls(
            host=data["host"],
            port=data.get("port", DEFAULT_PORTS[security]),
            security=security,
            from_address=from_address,
            from_name=data.get("from_name"),
            reply_to=addresses["reply_to"],
            username=data.get("username"),
            password=data.get("password"),
            timeout=float(data.get("timeout", 30)),
        )

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return self.from_address.rsplit("@", 1)[1]


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


class EmailChannel:
    """Sends a desk's notifications by e-mail through its SMTP server.

    Built per desk: ``EmailChannel(tenant.settings_for("propdesk.email"))``. Settings are checked
    when the channel is built; the password is resolved from the environment at each ``send``.
    """

    code: ClassVar[str] = CODE
    display_name: ClassVar[str] = "E-mail (SMTP)"
    settings_schema: ClassVar[dict[str, Any]] = EMAIL_SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = EmailSettings.parse(settings)

    def __repr__(self) -> str:
        return f"EmailChannel({self.settings.server}, from={self.settings.from_address!r})"

    def compose(self, notification: Notification) -> EmailMessage:
        """The message ``send`` transmits (UTF-8, quoted-printable; text, and HTML if given).

        :raises InvalidRecipient: an address is not valid.
        """
        return self._compose(notification, self._recipients(notification))

    def _compose(self, notification: Notification, recipients: tuple[str, ...]) -> EmailMessage:
        settings = self.settings
        message = EmailMessage()
        message["Subject"] = notification.subject
        message["From"] = Address(
            display_name=settings.from_name or "", addr_spec=settings.from_address
        )
        message["To"] = [Address(addr_spec=recipient) for recipient in recipients]
        if settings.reply_to:
            message["Reply-To"] = Address(addr_spec=settings.reply_to)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = message_id_for(
            notification.tenant, notification.idempotency_key, settings.domain
        )
        # RFC 3834: automatic replies (out of office) must not answer this message.
        message["Auto-Submitted"] = "auto-generated"
        message["X-Propdesk-Desk"] = notification.tenant
        message["X-Propdesk-Kind"] = notification.kind
        message.set_content(notification.text, charset="utf-8", cte="quoted-printable")
        if notification.html is not None:
            message.add_alternative(
                notification.html, subtype="html", charset="utf-8", cte="quoted-printable"
            )
        return message

    async def send(self, notification: Notification) -> Delivery:
        """Send ``notification`` to all its recipients in one SMTP transaction.

        :raises InvalidRecipient: an address is not valid (nothing is sent).
        :raises PermanentDeliveryError: the server refused the message or every recipient with
            a 5xx reply.
        :raises TemporaryDeliveryError: the server was unreachable or timed out, refused with a
            4xx reply, refused the credentials, or the password's variable is not set.
        """
        recipients = self._recipients(notification)
        message = self._compose(notification, recipients)
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            username=settings.username,
            password=self._password(),
            timeout=settings.timeout,
        )
        try:
            await self._open(client)
            refused, reply = await self._transmit(client, message, recipients)
        finally:
            await self._close(client)
        refusals = tuple(
            Refusal(recipient, _reply(response.code, response.message), response.code >= 500)
            for recipient, response in refused.items()
        )
        accepted = tuple(r for r in recipients if r not in refused)
        return Delivery(CODE, str(message["Message-ID"]), accepted, refusals, reply)

    # -- helpers --------------------------------------------------------------------------------

    async def _open(self, client: aiosmtplib.SMTP) -> None:
        """Connect, secure and log in: a failure here is the server's or the desk's settings',
        never the message's, so it is temporary."""
        settings = self.settings
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise TemporaryDeliveryError(
                f"{settings.server} refused the desk's SMTP credentials "
                f"({_reply(exc.code, exc.message)}): check username and the password variable",
                channel=CODE,
                reply_code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(
                f"could not open an SMTP session with {settings.server} "
                f"(security {settings.security}): {exc}",
                channel=CODE,
                reply_code=getattr(exc, "code", None),
            ) from exc

    async def _transmit(
        self, client: aiosmtplib.SMTP, message: EmailMessage, recipients: tuple[str, ...]
    ) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
        """One transaction (MAIL, RCPT, DATA); a refusal is permanent when its code is 5xx."""
        settings = self.settings
        message_id = str(message["Message-ID"])
        try:
            return await client.send_message(
                message, sender=settings.from_address, recipients=list(recipients)
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise self._all_refused(exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = PermanentDeliveryError if exc.code >= 500 else TemporaryDeliveryError
            raise error(
                f"{settings.server} refused message {message_id}: {_reply(exc.code, exc.message)}",
                channel=CODE,
                reply_code=exc.code,
            ) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentDeliveryError(
                f"{settings.server} cannot take message {message_id}: {exc}", channel=CODE
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(
                f"sending message {message_id} through {settings.server} failed: {exc}",
                channel=CODE,
            ) from exc

    def _recipients(self, notification: Notification) -> tuple[str, ...]:
        """Valid, distinct (case-insensitively) recipients, in the notification's order."""
        seen: dict[str, str] = {}
        for index, recipient in enumerate(notification.recipients):
            try:
                address = parse_address(recipient)
            except ValueError as exc:
                raise InvalidRecipient(recipient, index, str(exc), channel=CODE) from None
            seen.setdefault(address.lower(), address)
        return tuple(seen.values())

    def _password(self) -> str | None:
        if self.settings.password is None:
            return None
        try:
            password = resolve_secrets(self.settings.password, where="propdesk.email/password")
        except ConfigurationError as exc:
            raise TemporaryDeliveryError(exc.detail, channel=CODE) from exc
        return str(password)

    def _all_refused(self, exc: aiosmtplib.SMTPRecipientsRefused) -> Exception:
        refusals = tuple(
            Refusal(r.recipient, _reply(r.code, r.message), r.code >= 500) for r in exc.recipients
        )
        permanent = all(refusal.permanent for refusal in refusals)
        error = PermanentDeliveryError if permanent else TemporaryDeliveryError
        listed = "; ".join(str(refusal) for refusal in refusals)
        return error(
            f"{self.settings.server} refused every recipient: {listed}",
            channel=CODE,
            reply_code=next(r.code for r in exc.recipients if (r.code >= 500) == permanent),
            refused=refusals,
        )

    @staticmethod
    async def _close(client: aiosmtplib.SMTP) -> None:
        """End the session; a failure here cannot undo a message the server accepted."""
        if not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
