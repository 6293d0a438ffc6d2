"""One desk's ``stripe.StripeClient``, shared by the payment provider and the payout rail: made
on first use from the plugin's settings (construction does no I/O), closed with ``close``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from propdesk.tenancy.secrets import resolve_secrets


class StripeConnection:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = settings
        self._client: stripe.StripeClient | None = None
        self._http: stripe.HTTPXClient | None = None

    def client(self) -> stripe.StripeClient:
        if self._client is None:
            base = self._settings.get("api_base")
            addresses: Any = {"api": base, "connect": base, "files": base} if base else None
            self._http = stripe.HTTPXClient()
            self._client = stripe.StripeClient(
                str(resolve_secrets(self._settings["api_key"], where="stripe settings /api_key")),
                base_addresses=addresses,
                http_client=self._http,
                max_network_retries=int(self._settings.get("max_network_retries", 2)),
            )
        return self._client

    async def close(self) -> None:
        """Idempotent; a later ``client()`` makes a new one."""
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close_async()
