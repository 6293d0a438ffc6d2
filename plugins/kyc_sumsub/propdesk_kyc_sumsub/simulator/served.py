"""``SumsubSimulator``: the simulator under the core's simulator contract
(``propdesk.simulators``), for ``propdesk demo``: a desk's Sumsub app whose applicants send
their documents and are reviewed."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import ClassVar

from propdesk.simulators import DeskSettings, ServedSimulator
from propdesk_kyc_sumsub.adapter import SumsubKyc
from propdesk_kyc_sumsub.simulator.config import SimulatorConfig, WebhookEndpoint
from propdesk_kyc_sumsub.simulator.server import RunningSimulator, running_simulator

#: Retries of a failed webhook within seconds (Sumsub's own schedule starts at 5 minutes).
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


class SumsubSimulator(ServedSimulator[RunningSimulator]):
    code: ClassVar[str] = "sumsub"
    display_name: ClassVar[str] = "Sumsub API"
    plugin: ClassVar[str] = "kyc_sumsub"
    kyc_provider: ClassVar[str] = SumsubKyc.code

    def serve(self) -> AbstractContextManager[RunningSimulator]:
        config = SimulatorConfig(webhook_retry_delays=RETRY_DELAYS)
        if self.setup.propdesk_url:
            url = f"{self.setup.propdesk_url}/api/kyc/{self.kyc_provider}/webhook/{self.setup.desk}"
            config.webhooks = [WebhookEndpoint(url, config.webhook_secret)]
        return running_simulator(config)

    def desk_settings(self) -> DeskSettings:
        names = {f: self.env_name(f"SUMSUB_{f}") for f in ("APP_TOKEN", "SECRET_KEY", "WEBHOOK")}
        running = self.running
        settings = {
            "base_url": self.url,
            "app_token": {"env": names["APP_TOKEN"]},
            "secret_key": {"env": names["SECRET_KEY"]},
            "webhook_secret": {"env": names["WEBHOOK"]},
        }
        values = (running.app_token, running.secret_key, running.webhook_secret)
        return DeskSettings(settings, dict(zip(names.values(), values, strict=True)))

    async def approve_applicant(self, applicant: str) -> None:
        await self.running.control.submit(applicant)
        await self.running.control.review(applicant, "GREEN")
