"""KYC providers' webhooks: ``POST /api/kyc/{provider}/webhook/{desk}`` (public; signed)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post

from propdesk.access.permissions import public
from propdesk.http.deps import RuntimeDep
from propdesk.http.tenant import NO_TENANT_OPT
from propdesk.kyc.service import receive_kyc_webhook
from propdesk.tenancy.service import active_tenant

TAGS = ["kyc"]


class KycWebhookAnswer(msgspec.Struct):
    event_id: str
    duplicate: bool
    outcome: str


@post(
    "/api/kyc/{provider:str}/webhook/{desk:str}",
    opt={**public(), NO_TENANT_OPT: True},
    status_code=200,
    operation_id="receiveKycWebhook",
    tags=TAGS,
)
async def kyc_webhook(
    request: Request[Any, Any, Any], runtime: RuntimeDep, provider: str, desk: str
) -> KycWebhookAnswer:
    """Verify a provider's event, read the trader's verdict, record it (400 if unverifiable)."""
    tenant = await active_tenant(runtime, desk)
    received = await receive_kyc_webhook(
        runtime, tenant, provider, await request.body(), dict(request.headers)
    )
    return KycWebhookAnswer(received.event.event_id, received.duplicate, received.outcome)


ROUTES = [kyc_webhook]
