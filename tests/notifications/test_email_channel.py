"""The core ``email`` channel against a real SMTP server (aiosmtpd) on a local port."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from propdesk.errors import InvalidInput, ManifestError
from propdesk.notifications import (
    Delivery,
    InvalidRecipient,
    Notification,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    desk_channels,
    idempotency_key,
)
from propdesk.notifications.email_channel import EmailChannel, message_id_for, parse_address
from propdesk.plugins.components import NotificationChannel
from propdesk.plugins.manager import PluginHost
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import parse_manifest
from propdesk.testing.smtp import SmtpServer, free_port

TRADER = "trader@example.com"
RISK = "risk.officer@example.com"


def settings(server: SmtpServer, **overrides: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "from_address": "alerts@desk.example",
        "from_name": "Desk Risk",
        "reply_to": "support@desk.example",
        "timeout": 5,
        **overrides,
    }


def failed(
    *recipients: str, key: str = "evt-1", html: str | None = "<p>Ihr Konto</p>"
) -> Notification:
    return Notification(
        tenant="acme",
        kind="challenge.failed",
        recipients=recipients,
        subject="Défi échoué: daily loss €500 exceeded",
        text="Ihr Konto wurde gesperrt: Tagesverlust überschritten.\n",
        idempotency_key=idempotency_key(key, *recipients) if key else "",
        html=html,
    )


async def test_a_notification_arrives_with_both_parts_and_its_headers(
    smtp_server: SmtpServer,
) -> None:
    channel = EmailChannel(settings(smtp_server))
    notification = failed(TRADER)
    delivery = await channel.send(notification)

    assert isinstance(delivery, Delivery)
    assert delivery.channel == "email"
    assert delivery.accepted == (TRADER,)
    assert delivery.refused == ()
    assert delivery.reply == "Message accepted for delivery"
    [received] = smtp_server.inbox.received
    assert received.sender == "alerts@desk.example"
    assert received.recipients == [TRADER]
    message = received.message
    assert message["Subject"] == "Défi échoué: daily loss €500 exceeded"
    assert message["From"] == "Desk Risk <alerts@desk.example>"
    assert message["To"] == TRADER
    assert message["Reply-To"] == "support@desk.example"
    assert message["X-Propdesk-Desk"] == "acme"
    assert message["X-Propdesk-Kind"] == "challenge.failed"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    assert message["Message-ID"] == delivery.message_id
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    assert text.get_content() == "Ihr Konto wurde gesperrt: Tagesverlust überschritten.\n"
    assert html.get_content().strip() == "<p>Ihr Konto</p>"


async def test_the_message_id_is_the_same_for_every_retry_of_one_notification(
    smtp_server: SmtpServer,
) -> None:
    channel = EmailChannel(settings(smtp_server))
    first = await channel.send(failed(TRADER))
    again = await channel.send(failed(TRADER))
    other_event = await channel.send(failed(TRADER, key="evt-2"))
    other_person = await channel.send(failed(RISK))

    assert first.message_id == again.message_id
    assert re.fullmatch(r"<propdesk\.[0-9a-f]{32}@desk\.example>", first.message_id)
    assert first.message_id == message_id_for(
        "acme", idempotency_key("evt-1", TRADER), "desk.example"
    )
    assert len({first.message_id, other_event.message_id, other_person.message_id}) == 3
    received = [r.message["Message-ID"] for r in smtp_server.inbox.received]
    assert received == [first.message_id] * 2 + [other_event.message_id, other_person.message_id]
    # The key names the desk too: the same event id on another desk is another message.
    assert message_id_for("other", "evt-1:x", "d.example") != message_id_for(
        "acme", "evt-1:x", "d.example"
    )


async def test_a_text_only_notification_is_one_plain_utf8_part(smtp_server: SmtpServer) -> None:
    plain = {k: v for k, v in settings(smtp_server).items() if k not in ("reply_to", "from_name")}
    delivery = await EmailChannel(plain).send(failed(TRADER, RISK, "Trader@Example.com", html=None))
    assert delivery.accepted == (TRADER, RISK)  # one copy per address, whatever its case
    [received] = smtp_server.inbox.received
    assert received.recipients == [TRADER, RISK]
    message = received.message
    assert message.get_content_type() == "text/plain"
    assert message["From"] == "alerts@desk.example"
    assert message["Reply-To"] is None
    assert message["To"] == f"{TRADER}, {RISK}"
    assert message.get_content() == "Ihr Konto wurde gesperrt: Tagesverlust überschritten.\n"


async def test_a_550_for_every_recipient_is_a_permanent_refusal(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse_recipients[TRADER] = "550 5.1.1 <trader@example.com>: no such user"
    with pytest.raises(PermanentDeliveryError) as refused:
        await EmailChannel(settings(smtp_server)).send(failed(TRADER))
    error = refused.value
    assert error.permanent and error.reply_code == 550
    assert [(r.recipient, r.permanent) for r in error.refused] == [(TRADER, True)]
    assert "no such user" in str(error)
    assert smtp_server.inbox.received == []


async def test_a_550_to_the_message_is_a_permanent_refusal(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse_data = "550 5.7.1 message refused by policy"
    with pytest.raises(PermanentDeliveryError, match="refused by policy") as refused:
        await EmailChannel(settings(smtp_server)).send(failed(TRADER))
    assert refused.value.reply_code == 550


async def test_a_4xx_refusal_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse_data = "451 4.3.0 try again later"
    with pytest.raises(TemporaryDeliveryError, match="try again later") as refused:
        await EmailChannel(settings(smtp_server)).send(failed(TRADER))
    assert not refused.value.permanent and refused.value.reply_code == 451

    smtp_server.inbox.refuse_data = None
    smtp_server.inbox.refuse_recipients[TRADER] = "450 4.2.1 mailbox busy"
    with pytest.raises(TemporaryDeliveryError, match="mailbox busy"):
        await EmailChannel(settings(smtp_server)).send(failed(TRADER))


async def test_a_recipient_refused_among_others_is_reported_not_raised(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.inbox.refuse_recipients[RISK] = "450 4.2.1 mailbox busy"
    delivery = await EmailChannel(settings(smtp_server)).send(failed(TRADER, RISK))
    assert delivery.accepted == (TRADER,)
    [refusal] = delivery.refused
    assert (refusal.recipient, refusal.permanent) == (RISK, False)
    assert refusal.reply == "450 4.2.1 mailbox busy"
    assert [r.recipients for r in smtp_server.inbox.received] == [[TRADER]]


async def test_connection_refused_is_temporary() -> None:
    port = free_port()  # nothing listens there
    channel = EmailChannel(
        {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "a@desk.example"}
    )
    with pytest.raises(TemporaryDeliveryError, match=f"127.0.0.1:{port}") as refused:
        await channel.send(failed(TRADER))
    assert not refused.value.permanent
    assert refused.value.reply_code is None


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word."""

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_server_that_does_not_answer_in_time_is_temporary(silent_server: int) -> None:
    channel = EmailChannel(
        {
            "host": "127.0.0.1",
            "port": silent_server,
            "security": "none",
            "from_address": "a@desk.example",
            "timeout": 0.3,
        }
    )
    with pytest.raises(TemporaryDeliveryError):
        await channel.send(failed(TRADER))


async def test_tls_settings_against_a_plain_server_are_temporary(smtp_server: SmtpServer) -> None:
    # STARTTLS requested but not offered, and TLS from the start to a plain server: both fail
    # to open a session (fixable configuration), never a silent fall-back to plain text.
    for security in ("starttls", "tls"):
        with pytest.raises(TemporaryDeliveryError, match=f"security {security}"):
            await EmailChannel(settings(smtp_server, security=security)).send(failed(TRADER))
    assert smtp_server.inbox.received == []


async def test_an_invalid_recipient_is_named_and_nothing_is_sent(smtp_server: SmtpServer) -> None:
    channel = EmailChannel(settings(smtp_server))
    for bad in ("trader@", "Trader <trader@example.com>", "a@example.com, b@example.com", "x"):
        with pytest.raises(InvalidRecipient) as refused:
            await channel.send(failed(TRADER, bad))
        assert refused.value.permanent
        assert refused.value.address == bad
        assert repr(bad) in str(refused.value)
        assert [p.field for p in refused.value.problems] == ["/recipients/1"]
    assert smtp_server.inbox.connections == 0


def test_addresses_are_bare_and_their_domains_ascii() -> None:
    assert parse_address(" trader@example.com ") == "trader@example.com"
    assert parse_address("bob@exämple.com") == "bob@xn--exmple-cua.com"
    with pytest.raises(ValueError, match="line break"):
        parse_address("a@example.com\r\nBcc: eve@example.com")
    with pytest.raises(ValueError, match="name@domain"):
        parse_address("bøb@example.com")


async def test_the_password_is_read_from_the_environment_when_sending(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_server.inbox.accounts["alerts"] = "s3cret-value"
    monkeypatch.delenv("ACME_SMTP_PASSWORD", raising=False)
    channel = EmailChannel(
        settings(smtp_server, username="alerts", password={"env": "ACME_SMTP_PASSWORD"})
    )
    # Built without the variable: the secret is not needed, nor read, before sending.
    with pytest.raises(TemporaryDeliveryError, match="ACME_SMTP_PASSWORD is not set"):
        await channel.send(failed(TRADER))
    assert smtp_server.inbox.connections == 0

    monkeypatch.setenv("ACME_SMTP_PASSWORD", "wrong")
    with pytest.raises(TemporaryDeliveryError, match="refused the desk's SMTP credentials") as no:
        await channel.send(failed(TRADER))
    assert no.value.reply_code == 535

    monkeypatch.setenv("ACME_SMTP_PASSWORD", "s3cret-value")
    await channel.send(failed(TRADER))
    assert smtp_server.inbox.logins[-1] == ("alerts", "s3cret-value")
    assert {password for _, password in smtp_server.inbox.logins} == {"wrong", "s3cret-value"}
    assert len(smtp_server.inbox.received) == 1
    # The channel keeps the reference, never the value.
    assert channel.settings.password == {"env": "ACME_SMTP_PASSWORD"}
    assert "s3cret-value" not in repr(vars(channel)) + repr(channel.settings) + repr(channel)


def test_settings_are_checked_when_the_channel_is_built() -> None:
    with pytest.raises(InvalidInput) as refused:
        EmailChannel(
            {
                "port": 70000,
                "security": "ssl",
                "from_address": "Desk <alerts@desk.example>",
                "username": "alerts",
                "password": "plain text",
            }
        )
    assert sorted(str(p) for p in refused.value.problems) == sorted(
        [
            "/host: is required",
            "/port: 70000 is greater than the maximum of 65535",
            "/security: 'ssl' is not one of ['none', 'starttls', 'tls']",
            "/password: 'plain text' is not of type 'object'",
            "/from_address: 'Desk <alerts@desk.example>': write it as name@domain without a "
            "display name (Invalid addr_spec; only 'Desk ' could be parsed from "
            "'Desk <alerts@desk.example>')",
        ]
    )
    defaults = EmailChannel({"host": "smtp.example.com", "from_address": "a@desk.example"})
    assert (defaults.settings.security, defaults.settings.port) == ("starttls", 587)
    assert (
        EmailChannel(
            {"host": "h", "security": "tls", "from_address": "a@desk.example"}
        ).settings.port
        == 465
    )


MANIFEST = {"display_name": "Acme", "base_currency": "USD", "timezone": "UTC"}


def test_a_desk_configures_email_in_its_manifest_and_mistakes_are_pointed_at() -> None:
    host = PluginHost.load(Settings(load_entrypoints=False))
    good = {
        "host": "smtp.example.com",
        "port": 587,
        "security": "starttls",
        "username": "alerts@desk.example",
        "password": {"env": "ACME_SMTP_PASSWORD"},
        "from_address": "alerts@desk.example",
        "from_name": "Acme Risk",
    }
    manifest = parse_manifest(
        {**MANIFEST, "plugins": {"propdesk.email": good}},
        slug="acme",
        source="tenant.toml",
        host=host,
    )
    assert manifest.plugins["propdesk.email"] == good

    bad = {
        "host": "",
        "security": "ssl",
        "password": "hunter2",
        "from_address": "alerts",
        "timeout": 0,
        "verbose": True,
    }
    with pytest.raises(ManifestError) as refused:
        parse_manifest(
            {**MANIFEST, "plugins": {"propdesk.email": bad}},
            slug="acme",
            source="tenant.toml",
            host=host,
        )
    fields = sorted(p.field for p in refused.value.problems)
    prefix = "/plugins/propdesk.email"
    assert fields == sorted(
        [
            f"{prefix}",  # password without username
            f"{prefix}/from_address",
            f"{prefix}/host",
            f"{prefix}/password",
            f"{prefix}/security",
            f"{prefix}/timeout",
            f"{prefix}/verbose",
        ]
    )
    missing = parse_manifest_problems(host, {"security": "none"})
    assert missing == [f"{prefix}/from_address", f"{prefix}/host"]


def parse_manifest_problems(host: PluginHost, email: dict[str, Any]) -> list[str]:
    with pytest.raises(ManifestError) as refused:
        parse_manifest(
            {**MANIFEST, "plugins": {"propdesk.email": email}}, slug="acme", source="t", host=host
        )
    return sorted(p.field for p in refused.value.problems)


def test_the_email_channel_is_registered_and_built_for_desks_that_configure_it() -> None:
    host = PluginHost.load(Settings(load_entrypoints=False))
    channels = host.component("propdesk_register_notification_channels")
    assert channels.get("email") is EmailChannel
    info = {i.name: i for i in host.plugins_info()}
    assert info["propdesk.email"].core
    assert "propdesk.email" in host.tenant_plugins()

    assert desk_channels(host, TenantContext("quiet")) == {}
    configured = TenantContext(
        "acme",
        plugins={"propdesk.email": {"host": "smtp.example.com", "from_address": "a@b.example"}},
    )
    built = desk_channels(host, configured)
    assert list(built) == ["email"]
    assert isinstance(built["email"], EmailChannel)
    assert isinstance(built["email"], NotificationChannel)
