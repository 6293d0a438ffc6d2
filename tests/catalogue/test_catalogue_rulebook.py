"""The trader's rulebook, written from the product JSON."""

from __future__ import annotations

from catalogue_samples import FAMILIES

from propdesk.catalogue.rulebook import rulebook_html, rulebook_markdown, text


def test_the_rulebook_states_the_numbers_of_every_section(two_step):
    book = rulebook_markdown(two_step, FAMILIES)
    for expected in [
        "# Two-Step Challenge",
        "| 100k | 100,000.00 USD | 540.00 USD · 499.00 EUR |",
        "### 1. Phase 1",
        "- Kind: evaluation",
        "- Platform: mt5",
        "- Leverage: 1:100",
        "### 3. Funded",
        "- Leverage: 1:30",
        "Falling below pauses trading until the next reset.",
        "The day restarts at 00:00 Europe/Prague.",
        # A size override shows as that size's own sentence.
        "  - With the 200k account: Each day your equity",
        "### 90% profit split (49.00 USD · 45.00 EUR)",
        "highest end-of-day balance",
        "Payouts: every two weeks.",
        "Minimum payout: 50.00 USD.",
        "4th payout",
        "Every 4 months",
        "up to 2,000,000.00 USD",
        "99.00 USD · 89.00 EUR",
        "within 30 days",
        "refunded with your 1st payout",
    ]:
        assert expected in book, expected
    # The 100k override (tolerance) does not change the sentence: no duplicate line.
    assert "With the 100k account" not in book


def test_product_text_cannot_inject_html_or_markup(two_step):
    two_step["name"] = "Evil <script>alert(1)</script> *bold*"
    two_step["description"] = "Hi <img src=x onerror=alert(1)> [click](javascript:alert(1))"
    two_step["phases"][0]["name"] = "| pipe # and [link](http://x)"
    html = rulebook_html(two_step, FAMILIES)
    assert "<script>" not in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; *bold*</h1>" in html
    assert "<strong>bold</strong>" not in html
    assert "<h3>1. | pipe # and [link](http://x)</h3>" in html
    assert "<table>" in html


def test_text_escaping_keeps_ordinary_text_readable():
    assert text("345.00 USD") == "345.00 USD"
    assert text("1. first") == "1\\. first"
    assert text("# not a heading") == "\\# not a heading"
    assert text("a_b*c") == "a\\_b\\*c"
