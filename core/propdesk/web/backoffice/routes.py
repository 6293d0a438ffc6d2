"""The desk's back office (``/backoffice/`` on the desk's domain): one router of every page
group, each in its own module."""

from __future__ import annotations

from propdesk.web.backoffice import (
    catalogue,
    catalogue_editor,
    desk,
    orders,
    payouts,
    plugins,
    risk,
    staff,
    traders,
)
from propdesk.web.pages import area_router

ROUTER = area_router(
    "/backoffice",
    "backoffice",
    [
        *desk.HANDLERS,
        *traders.HANDLERS,
        *orders.HANDLERS,
        *risk.HANDLERS,
        *payouts.HANDLERS,
        *catalogue.HANDLERS,
        *catalogue_editor.HANDLERS,
        *plugins.HANDLERS,
        *staff.HANDLERS,
    ],
)
