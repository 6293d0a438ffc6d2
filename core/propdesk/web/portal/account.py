"""The trader's account: their profile and identity check, started with the desk's provider
(as ``POST /api/traders/me/kyc`` does) on the provider's own hosted page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from propdesk.errors import Conflict
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.kyc.service import start_kyc
from propdesk.plugins.desk import KYC_PROVIDERS, desk_codes
from propdesk.web.pages import form_of, render, see_other
from propdesk.web.portal.trader import OPEN, sign_in_first, signed_in, trader_of

#: Statuses from which the trader (re)starts the check.
STARTABLE = ("not_started", "pending", "rejected_retry")


@get("/account", opt=OPEN)
async def account_page(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Template:
    trader = await signed_in(request, session)
    return await render(
        request,
        session,
        "portal/account.html",
        trader=trader,
        providers=desk_codes(runtime.host, tenant, KYC_PROVIDERS),
    )


@post("/account/kyc", opt=OPEN, status_code=303)
async def start_identity_check(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Response[Any]:
    """Start (or continue) the check and go to the provider's page."""
    trader = await trader_of(request, session)
    if trader is None:
        return sign_in_first(request, "/account")
    providers = desk_codes(runtime.host, tenant, KYC_PROVIDERS)
    provider = (await form_of(request)).get("provider") or (providers[0] if providers else "")
    if provider not in providers:
        raise Conflict(f"{tenant.display_name or tenant.slug} does not check identities online")
    if trader.kyc_status not in STARTABLE:
        raise Conflict(f"your identity check is {trader.kyc_status.replace('_', ' ')}")
    made = await start_kyc(runtime, tenant, trader.id, provider)
    if made.url is None:
        raise Conflict(f"{provider} has no page to send you to: contact support")
    return see_other(made.url, request)


ROUTES = [account_page, start_identity_check]
