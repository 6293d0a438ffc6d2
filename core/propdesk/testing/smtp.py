"""A real SMTP server (aiosmtpd) on a free local port, recording what it receives. Test support:
``running_smtp()`` starts one, the ``smtp_server`` fixture gives one per test. Needs
``aiosmtpd`` (in Propdesk's ``test`` extra)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """The handler: accepts everything unless told to refuse a recipient or the data."""

    received: list[Received] = field(default_factory=list)
    #: Address -> the reply to its RCPT TO (e.g. "550 5.1.1 no such user").
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    #: The reply to DATA when not accepting (e.g. "554 5.7.1 rejected as spam").
    refuse_data: str | None = None
    #: Logins the server accepts: login -> password.
    accounts: dict[str, str] = field(default_factory=dict)
    #: Passwords the server was given, as sent.
    logins: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data is not None:
            return self.refuse_data
        content = envelope.content.replace(b"\r\n", b"\n")  # as a mail client would store it
        message = cast(EmailMessage, message_from_bytes(content, policy=policy.default))
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address`` (any case), in order."""
        wanted = address.lower()
        return [r.message for r in self.received if wanted in (a.lower() for a in r.recipients)]

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        # handled=False: the server answers the refusal itself (535).
        return AuthResult(success=self.accounts.get(login) == password, handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


@contextlib.contextmanager
def running_smtp(inbox: Inbox | None = None) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 and a free port, delivering into ``inbox``; AUTH (LOGIN,
    PLAIN) is offered without TLS and checked against ``inbox.accounts``."""
    inbox = inbox if inbox is not None else Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="mx.test",
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()
