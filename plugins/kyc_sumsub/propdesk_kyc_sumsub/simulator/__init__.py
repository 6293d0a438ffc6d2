"""A local Sumsub API for tests, demos and staging: the signed wire surface (applicants, review
status, access tokens, check requests) with Sumsub's error shapes, a WebSDK stand-in page, a
webhook sender, and a control API under ``/__sim__/``.

    with running_simulator(SimulatorConfig()) as sim:
        client = SumsubClient(sim.url, sim.app_token, sim.secret_key)
        ...
        await sim.control.review(applicant.id, "GREEN")
"""

from propdesk_kyc_sumsub.simulator.config import (
    REAL_RETRY_DELAYS,
    SimulatorConfig,
    WebhookEndpoint,
)
from propdesk_kyc_sumsub.simulator.control_client import SumsubSimulatorControl
from propdesk_kyc_sumsub.simulator.server import RunningSimulator, create_app, running_simulator
from propdesk_kyc_sumsub.simulator.state import Simulator

__all__ = [
    "REAL_RETRY_DELAYS",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "SumsubSimulatorControl",
    "WebhookEndpoint",
    "create_app",
    "running_simulator",
]
