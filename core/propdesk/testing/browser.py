"""Playwright on Debian's Chromium, for the browser tests and ``propdesk screenshots``.

The browser is the machine's ``chromium`` (``/usr/bin/chromium``, or ``PROPDESK_CHROMIUM``);
Playwright's own download is never used. Desk domains under ``.localhost`` resolve to this
machine, so pages are reached by the domains the desks serve (white-labelling included).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser

#: Flags for a sandboxed machine with no outside network (see DESIGN.md, "Checked to work").
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
)


def chromium_path() -> str | None:
    """The Chromium to drive, or None when this machine has none."""
    configured = os.environ.get("PROPDESK_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the duration of the block."""
    from playwright.async_api import async_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError(
            "no Chromium: install Debian's package (apt-get install chromium) "
            "or set PROPDESK_CHROMIUM to a Chromium binary"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            await browser.close()
