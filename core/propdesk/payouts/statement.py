"""A trader's payout statement as a printable HTML page and an A4 PDF. Pure: no I/O.

The caller gathers the numbers (``Statement``); both renderers show the same content: the desk,
the trader and account, the calculation lines, what is paid and how, notes and the timeline.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from jinja2 import Environment, PackageLoader, StrictUndefined

from propdesk.rules.money import money

#: Used when a desk's colour is not ``#RRGGBB``.
DEFAULT_ACCENT = "#1f2937"
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_INK = (31, 41, 55)
_MUTED = (107, 114, 128)


@dataclass(frozen=True, slots=True)
class StatementLine:
    label: str
    amount: Decimal
    note: str = ""


@dataclass(frozen=True, slots=True)
class StatementEvent:
    at: datetime
    what: str
    by: str


@dataclass(frozen=True, slots=True)
class Statement:
    desk_name: str
    #: ``#RRGGBB``, the accent of the page.
    desk_color: str
    payout_id: int
    #: The trader's n-th payout.
    payout_number: int
    status: str
    currency: str
    trader_name: str
    trader_email: str
    challenge_id: int
    product_name: str
    #: ``platform:login``, e.g. ``mt5:954402``.
    account: str
    period_start: date
    period_end: date
    #: How the amount comes about: profit, cap, split, trader share, fee refund...
    lines: tuple[StatementLine, ...]
    #: What is paid to the trader.
    amount: Decimal
    rail: str
    #: The rail's reference once paid.
    rail_reference: str | None
    notes: tuple[str, ...]
    events: tuple[StatementEvent, ...]
    issued_at: datetime


def format_amount(value: Decimal, currency: str) -> str:
    """``13,100.00 USD``; ``-540.00 USD``."""
    text = money(value)
    return f"{'0.00' if text == '-0.00' else text} {currency}"


def format_when(at: datetime) -> str:
    zone = at.tzname()
    return f"{at:%Y-%m-%d %H:%M}" + (f" {zone}" if zone else "")


def accent_color(color: str) -> str:
    # The colour lands inside <style>, where HTML escaping protects nothing: only a plain hex
    # colour gets through.
    return color if _HEX_COLOR.fullmatch(color) else DEFAULT_ACCENT


_env = Environment(
    loader=PackageLoader("propdesk.payouts", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["money"] = format_amount
_env.filters["when"] = format_when


def statement_html(s: Statement) -> str:
    """A complete, self-contained HTML5 page (inline CSS, no external assets), print-ready."""
    return _env.get_template("statement.html").render(s=s, accent=accent_color(s.desk_color))


# Helvetica only knows Windows-1252 (the PDF's WinAnsiEncoding); letters with no decomposition
# to a base letter get a look-alike rather than "?".
_LOOKALIKES = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "\u0131": "i", "\u2212": "-"})


def pdf_text(text: str) -> str:
    """``text`` with what Helvetica cannot show replaced: accents dropped where the base letter
    exists (``ō`` → ``o``), ``?`` for the rest."""

    def fits(ch: str) -> bool:
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return True

    out = []
    for ch in text.translate(_LOOKALIKES):
        if fits(ch):
            out.append(ch)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if fits(c) and not unicodedata.combining(c)
        )
        out.append(base or "?")
    return "".join(out)


def statement_pdf(s: Statement) -> bytes:
    """The statement as an A4 PDF in Helvetica; the same input gives the same bytes."""
    hex_accent = accent_color(s.desk_color)
    accent = tuple(int(hex_accent[i : i + 2], 16) for i in (1, 3, 5))
    title = f"Payout statement {s.payout_number}"

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_margins(16, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(title)
    pdf.set_author(s.desk_name)
    pdf.set_creator("Propdesk")
    # fpdf2 stamps "now" and hashes it into the file id otherwise.
    pdf.set_creation_date(s.issued_at)
    pdf.add_page()

    pdf.set_fill_color(*accent)
    pdf.rect(0, 0, pdf.w, 6, style="F")
    # Tables fill their cells with the current fill colour.
    pdf.set_fill_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*accent)
    pdf.cell(0, 7, pdf_text(s.desk_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(pdf.epw - 50, 10, title)
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_text_color(*accent)
    pdf.cell(50, 10, pdf_text(s.status.upper()), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(text: str) -> None:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_text_color(*_MUTED)
        pdf.cell(0, 6, text.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 10)
        pdf.set_text_color(*_INK)

    def facts(rows: list[tuple[str, str]]) -> None:
        with pdf.table(
            col_widths=(1, 4),
            first_row_as_headings=False,
            borders_layout="NONE",
            text_align="LEFT",
            line_height=5.5,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(color=_MUTED))
                row.cell(pdf_text(value))

    headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=accent)

    heading("Trader")
    facts(
        [
            ("Name", s.trader_name),
            ("Email", s.trader_email),
            ("Product", s.product_name),
            ("Challenge", str(s.challenge_id)),
            ("Account", s.account),
            ("Period", f"{s.period_start.isoformat()} to {s.period_end.isoformat()}"),
            ("Payout", f"#{s.payout_id}"),
        ]
    )

    heading("Calculation")
    with pdf.table(
        col_widths=(3, 1),
        text_align=("LEFT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        v_align="TOP",
        headings_style=headings,
        line_height=6,
    ) as table:
        table.row(("Item", "Amount"))
        for line in s.lines:
            label = line.label + (f"\n{line.note}" if line.note else "")
            table.row((pdf_text(label), pdf_text(format_amount(line.amount, s.currency))))
        total = table.row(style=FontFace(emphasis="BOLD", size_pt=12))
        total.cell("Paid to trader")
        total.cell(pdf_text(format_amount(s.amount, s.currency)))

    heading("Payment")
    facts([("Rail", s.rail), ("Reference", s.rail_reference or "not yet paid")])

    if s.notes:
        heading("Notes")
        for note in s.notes:
            pdf.multi_cell(0, 5.5, pdf_text(f"\u2022 {note}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if s.events:
        heading("Timeline")
        with pdf.table(
            col_widths=(2, 4, 2),
            text_align="LEFT",
            borders_layout="HORIZONTAL_LINES",
            v_align="TOP",
            headings_style=headings,
            line_height=5.5,
        ) as table:
            table.row(("When", "What", "By"))
            for e in s.events:
                table.row((pdf_text(format_when(e.at)), pdf_text(e.what), pdf_text(e.by)))

    pdf.ln(8)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 4, pdf_text(f"Issued {format_when(s.issued_at)} by {s.desk_name}."))
    return bytes(pdf.output())
