"""Payment providers' webhooks: ``POST /api/payments/{provider}/webhook/{desk}``.

The desk is in the path because a provider cannot be told to send a desk header; the endpoint
is public, and the provider's signature (checked by its adapter) is what lets a call in.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post

from propdesk.access.permissions import public
from propdesk.http.deps import RuntimeDep
from propdesk.http.tenant import NO_TENANT_OPT
from propdesk.payments.service import receive_webhook
from propdesk.tenancy.service import active_tenant

TAGS = ["payments"]


class WebhookAnswer(msgspec.Struct):
    event_id: str
    kind: str
    duplicate: bool
    outcome: str


@post(
    "/api/payments/{provider:str}/webhook/{desk:str}",
    opt={**public(), NO_TENANT_OPT: True},
    status_code=200,
    operation_id="receivePaymentWebhook",
    tags=TAGS,
)
async def payment_webhook(
    request: Request[Any, Any, Any], runtime: RuntimeDep, provider: str, desk: str
) -> WebhookAnswer:
    """Verify a provider's event and act on it once (400 when it does not verify)."""
    tenant = await active_tenant(runtime, desk)
    body = await request.body()
    received = await receive_webhook(runtime, tenant, provider, body, dict(request.headers))
    return WebhookAnswer(
        received.event.event_id, received.event.kind, received.duplicate, received.outcome
    )


ROUTES = [payment_webhook]
