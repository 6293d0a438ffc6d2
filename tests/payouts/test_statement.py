"""Payout statement: the same content as HTML and PDF, user text escaped, amounts for people,
names Helvetica cannot show replaced instead of crashing."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from propdesk.payouts.statement import (
    DEFAULT_ACCENT,
    Statement,
    StatementEvent,
    StatementLine,
    format_amount,
    format_when,
    pdf_text,
    statement_html,
    statement_pdf,
)

ISSUED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
STATEMENT = Statement(
    desk_name="Apex Desk",
    desk_color="#0E7C66",
    payout_id=4711,
    payout_number=2,
    status="paid",
    currency="USD",
    trader_name="Jane Doe",
    trader_email="jane@example.com",
    challenge_id=318,
    product_name="100K Two-Step",
    account="mt5:954402",
    period_start=date(2026, 11, 7),
    period_end=date(2026, 11, 21),
    lines=(
        StatementLine("Profit since last payout", Decimal("13100")),
        StatementLine("Counted profit", Decimal("10000.00"), "capped at 10,000.00 per payout"),
        StatementLine("Firm share (20%)", Decimal("-2000.00")),
        StatementLine("Trader share (80% split)", Decimal("8000.00")),
        StatementLine("Challenge fee refund", Decimal("540"), "refunded with the first payout"),
    ),
    amount=Decimal("8540.00"),
    rail="bank transfer",
    rail_reference="SEPA-2026-11-000123",
    notes=("Paid in full; the capped 3,100.00 stays in the account.",),
    events=(
        StatementEvent(datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "Requested", "Jane Doe"),
        StatementEvent(
            datetime(2026, 11, 21, 12, 1, tzinfo=UTC), "Profit withdrawn (ticket 88123)", "mt5"
        ),
        StatementEvent(datetime(2026, 11, 22, 8, 15, tzinfo=UTC), "Approved", "ops@apex.test"),
        StatementEvent(
            datetime(2026, 11, 23, 16, 40, tzinfo=UTC),
            "Paid via bank transfer, reference SEPA-2026-11-000123",
            "finance@apex.test",
        ),
    ),
    issued_at=ISSUED,
)
AMOUNTS = ("13,100.00 USD", "10,000.00 USD", "-2,000.00 USD", "540.00 USD", "8,540.00 USD")


def pdf_reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def pdf_words(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pdf_reader(data).pages)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("13100"), "13,100.00 USD"),
        (Decimal("1234567.891"), "1,234,567.89 USD"),
        (Decimal("-540"), "-540.00 USD"),
        (Decimal("0.005"), "0.00 USD"),
        (Decimal("-0.001"), "0.00 USD"),
    ],
)
def test_amounts_have_separators_cents_and_currency(value, text):
    assert format_amount(value, "USD") == text


def test_html_is_a_complete_page_with_amounts_trader_and_timeline():
    html = statement_html(STATEMENT)

    assert html.startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert "--accent: #0E7C66;" in html
    # Self-contained: nothing fetched when printed or opened offline.
    for external in ("<link", "src=", "@import", "url("):
        assert external not in html
    for amount in AMOUNTS:
        assert amount in html
    for text in ("Apex Desk", "Payout statement 2", "Jane Doe", "jane@example.com", "mt5:954402"):
        assert text in html
    assert "2026-11-07 to 2026-11-21" in html
    assert "capped at 10,000.00 per payout" in html
    assert "SEPA-2026-11-000123" in html
    assert "the capped 3,100.00 stays in the account" in html
    for event in STATEMENT.events:
        assert f'<td class="when">{format_when(event.at)}</td><td>{event.what}</td>' in html
        assert event.by in html


def test_html_escapes_what_users_typed():
    evil = '<script>alert("x")</script>'
    s = replace(
        STATEMENT,
        trader_name=evil,
        desk_name="A & B <i>",
        lines=(StatementLine("Profit", Decimal(1), note="<b>bold</b>"),),
        events=(StatementEvent(ISSUED, "<img onerror=x>", "<u>"),),
    )

    html = statement_html(s)

    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "A &amp; B &lt;i&gt;" in html
    for raw in ("<b>", "<img", "<u>", "<i>"):
        assert raw not in html


def test_desk_color_that_is_not_hex_does_not_reach_the_css():
    html = statement_html(replace(STATEMENT, desk_color="red;}</style><script>x()</script>"))

    assert "<script" not in html and "red;}" not in html
    assert f"--accent: {DEFAULT_ACCENT};" in html


def test_pdf_has_the_same_content_and_metadata():
    data = statement_pdf(STATEMENT)

    assert data.startswith(b"%PDF-")
    reader = pdf_reader(data)
    assert len(reader.pages) == 1
    assert reader.metadata.title == "Payout statement 2"
    assert reader.metadata.author == "Apex Desk"
    # Stamped with the issue time, not "now": the same statement gives the same bytes.
    assert reader.metadata.creation_date == ISSUED
    text = pdf_words(data)
    for amount in AMOUNTS:
        assert amount in text
    for part in ("Jane Doe", "jane@example.com", "mt5:954402", "SEPA-2026-11-000123", "PAID"):
        assert part in text
    for event in STATEMENT.events:
        assert event.by in text


def test_pdf_is_the_same_bytes_for_the_same_statement():
    assert statement_pdf(STATEMENT) == statement_pdf(STATEMENT)
    assert statement_pdf(STATEMENT) != statement_pdf(replace(STATEMENT, amount=Decimal(1)))


def test_pdf_replaces_what_helvetica_cannot_show():
    s = replace(STATEMENT, trader_name="Zoë Łukasz 李", notes=("Ōno \u2013 paid €8,540 “net”",))

    text = pdf_words(statement_pdf(s))

    assert "Zoë Lukasz ?" in text
    assert "Ono \u2013 paid €8,540 “net”" in text


def test_pdf_text_keeps_what_windows_1252_shows():
    assert pdf_text("Zoë Łukasz 李") == "Zoë Lukasz ?"
    assert pdf_text("Søren Müller-Ōtsuka ﬁ \u22125") == "Søren Müller-Otsuka fi -5"


def test_long_statement_flows_onto_a_second_page():
    events = tuple(
        StatementEvent(ISSUED, f"Step {i}: a long description of what happened here", "ops")
        for i in range(40)
    )

    data = statement_pdf(replace(STATEMENT, events=events))

    assert len(pdf_reader(data).pages) == 2
    assert "Step 39" in pdf_words(data)
