"""Sumsub KYC for Propdesk: a signed async client of the Sumsub API (``client``), webhook
verification (``webhooks``) and a simulator of the API (``simulator``)."""

from propdesk_kyc_sumsub.client import AccessToken, Applicant, ApplicantStatus, SumsubClient
from propdesk_kyc_sumsub.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    RateLimited,
    Rejected,
    SumsubError,
    Unavailable,
)
from propdesk_kyc_sumsub.signing import SumsubAuth, sign_request
from propdesk_kyc_sumsub.webhooks import InvalidWebhook, WebhookEvent, sign_webhook, verify_webhook

__all__ = [
    "AccessToken",
    "Applicant",
    "ApplicantStatus",
    "AuthenticationFailed",
    "Conflict",
    "InvalidWebhook",
    "NotFound",
    "RateLimited",
    "Rejected",
    "SumsubAuth",
    "SumsubClient",
    "SumsubError",
    "Unavailable",
    "WebhookEvent",
    "sign_request",
    "sign_webhook",
    "verify_webhook",
]
