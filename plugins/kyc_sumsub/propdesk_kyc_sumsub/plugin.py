"""The Sumsub plugin's hooks: it registers the KYC provider, its settings and the Sumsub
simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from propdesk import hookimpl
from propdesk.kyc.contract import KycProvider
from propdesk_kyc_sumsub.adapter import SETTINGS_SCHEMA, SumsubKyc

if TYPE_CHECKING:
    from propdesk.simulators import Simulator


@hookimpl
def propdesk_register_kyc_providers() -> list[type[KycProvider]]:
    return [SumsubKyc]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA


@hookimpl
def propdesk_register_simulators() -> list[type[Simulator]]:
    # Imported here: only the commands that run simulators load them.
    from propdesk_kyc_sumsub.simulator.served import SumsubSimulator

    return [SumsubSimulator]
