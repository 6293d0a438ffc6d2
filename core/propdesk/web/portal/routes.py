"""The trader portal (``/`` on the desk's domain): one router of every page group.

- ``auth``: ``/signup``, ``/login``, ``POST /logout``;
- ``home``: ``/`` (the dashboard, or the desk's landing page);
- ``shop``: ``/challenges`` (what is on sale, Buy), ``/challenges/{code}/rules``;
- ``orders``: ``/orders/{id}`` (back from the checkout, live until the account is ready);
- ``challenge``: ``/challenges/{id}`` (objectives live, equity, history, rulebook);
- ``payouts``: ``/payouts`` (quotes, requests, history, statements);
- ``account``: ``/account`` (profile, identity check).

Mounted at ``/``: paths stay clear of ``/api``, ``/backoffice``, ``/leadership``, ``/static``,
``/health``, ``/ready``, ``/schema`` and ``/plugins``.
"""

from __future__ import annotations

from propdesk.web.pages import area_router
from propdesk.web.portal import account, auth, challenge, home, orders, payouts, shop

ROUTER = area_router(
    "/",
    "portal",
    [
        *auth.ROUTES,
        *home.ROUTES,
        *shop.ROUTES,
        *orders.ROUTES,
        *challenge.ROUTES,
        *payouts.ROUTES,
        *account.ROUTES,
    ],
)
