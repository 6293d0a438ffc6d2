"""The Sumsub plugin's hooks: it registers the KYC provider and its settings."""

from __future__ import annotations

from typing import Any

from propdesk import hookimpl
from propdesk.kyc.contract import KycProvider
from propdesk_kyc_sumsub.adapter import SETTINGS_SCHEMA, SumsubKyc


@hookimpl
def propdesk_register_kyc_providers() -> list[type[KycProvider]]:
    return [SumsubKyc]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA
