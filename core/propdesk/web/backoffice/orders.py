"""Refunding an order from its trader's page (the same refund the API asks the provider for)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Template

from propdesk.access.permissions import requires
from propdesk.errors import FieldProblem, NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.orders import refunds
from propdesk.orders.models import OrderRow
from propdesk.traders import service as traders
from propdesk.web.backoffice.common import Refusal, attempt, done
from propdesk.web.backoffice.traders import story_page
from propdesk.web.pages import form_of, see_other

REFUND = requires("orders", "refund")


def _amount(text: str) -> Decimal | Refusal | None:
    """The form's amount: None for all of what is left."""
    text = text.strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        problem = FieldProblem("amount", 'a decimal amount, e.g. "120.50", or empty for all')
        return Refusal(f"{text!r} is not an amount", [problem])
    return amount


@post("/orders/{order_id:int}/refund", opt=REFUND)
async def refund(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    order_id: FromPath[int],
) -> Response[Any] | Template:
    """Ask the order's payment provider for a refund; its webhook books it."""
    order = await session.get(OrderRow, order_id)
    if order is None:
        raise NotFound(f"no order {order_id} on this desk")
    trader = await traders.get(session, order.trader_id)
    form = await form_of(request)
    amount = _amount(form.get("amount", ""))
    outcome: Any = amount
    if not isinstance(amount, Refusal):
        outcome = await attempt(
            session,
            refunds.refund(
                runtime,
                session,
                tenant,
                order_id,
                amount=amount,
                reason=form.get("reason", ""),
                # The form's own key: sent twice, it refunds once.
                key=form.get("key", "") or "web",
            ),
        )
    if isinstance(outcome, Refusal):
        refused = f"order-{order_id}"
        return await story_page(request, session, runtime, tenant, trader, outcome, refused)
    message = f"Refund of order {order_id} asked for: {outcome.amount} ({outcome.status})."
    return see_other(done(f"/backoffice/traders/{trader.id}", message) + "#orders", request)


HANDLERS = [refund]
