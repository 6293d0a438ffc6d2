"""The simulator's settings and a webhook endpoint's."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Sumsub's schedule after a failed delivery: 5 min, 1 h, 5 h, 18 h (then it gives up).
REAL_RETRY_DELAYS = (300.0, 3600.0, 18000.0, 64800.0)
DIGEST_ALGORITHMS = ("HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX")


@dataclass
class WebhookEndpoint:
    """Where the simulator posts webhooks, and how it signs them (as a dashboard webhook)."""

    url: str
    secret: str
    algorithm: str = "HMAC_SHA256_HEX"
    #: The event types sent there; empty for all.
    types: tuple[str, ...] = ()


@dataclass
class SimulatorConfig:
    # The simulator's own well-known credentials (it guards nothing real).
    app_token: str = "sbx:propdesk-sim-app-token"  # noqa: S105
    secret_key: str = "propdesk-sim-secret-key"  # noqa: S105
    #: The secret of webhooks added without one (``--webhook``, the control API).
    webhook_secret: str = "propdesk-sim-webhook-secret"  # noqa: S105
    levels: tuple[str, ...] = ("basic-kyc-level",)
    client_id: str = "propdesk-sim"
    sandbox_mode: bool = True
    #: How far ``X-App-Access-Ts`` may be from the simulator's clock (Sumsub: one minute).
    ts_tolerance_seconds: float = 60.0
    #: Requests per ``rate_window_seconds`` before a 429 (``None``: unlimited). Sumsub allows
    #: 300 GET and 50 POST per 5 s.
    rate_limit_get: int | None = None
    rate_limit_post: int | None = None
    rate_window_seconds: float = 5.0
    webhooks: list[WebhookEndpoint] = field(default_factory=list)
    #: Delays (simulator seconds) before each retry of a failed delivery.
    webhook_retry_delays: tuple[float, ...] = REAL_RETRY_DELAYS
    webhook_timeout_seconds: float = 5.0
    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = 0
    #: Seeds the ids and the shuffled webhook order (``None``: random).
    seed: int | None = None
