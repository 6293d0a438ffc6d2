"""The core's own payout rail: finance pays by bank transfer and records the bank's reference.

``pay`` moves no money: it answers ``pending``, and the payout waits in ``paying`` until
finance confirms it with the reference of the transfer they made
(``POST /api/payouts/{id}/confirmation``). The destination is the trader's bank account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from propdesk.payouts.contract import PayoutInstruction, RailResult

CODE = "bank"


class BankTransfer:
    code: ClassVar[str] = CODE
    display_name: ClassVar[str] = "Bank transfer (paid by finance)"
    settings_schema: ClassVar[dict[str, Any]] = {}
    destination_schema: ClassVar[dict[str, Any]] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": ["account_holder", "iban"],
        "properties": {
            "account_holder": {
                "type": "string",
                "minLength": 2,
                "maxLength": 140,
                "title": "Account holder",
            },
            "iban": {
                "type": "string",
                "title": "IBAN",
                "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
                "description": "Upper case, without spaces",
            },
            "bic": {
                "type": "string",
                "pattern": "^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$",
                "title": "BIC",
            },
        },
    }

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = dict(settings)

    async def pay(self, instruction: PayoutInstruction) -> RailResult:
        # A person pays: nothing to repeat, so asking twice is harmless by construction.
        return RailResult(status="pending", rail_reference=None, at=datetime.now(UTC))

    async def close(self) -> None:
        return None
