"""``python -m propdesk_kyc_sumsub.simulator``: serve a simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from propdesk.testing.simulators import serve_until_signal
from propdesk_kyc_sumsub.simulator.config import DIGEST_ALGORITHMS, SimulatorConfig, WebhookEndpoint
from propdesk_kyc_sumsub.simulator.server import running_simulator


def _delays(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("retry delays are seconds, comma-separated") from None


def parse_args(argv: Sequence[str] | None = None) -> SimulatorConfig:
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m propdesk_kyc_sumsub.simulator", description="A simulated Sumsub API."
    )
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=8095, help="0 picks a free port")
    parser.add_argument("--app-token", default=defaults.app_token)
    parser.add_argument("--secret-key", default=defaults.secret_key)
    parser.add_argument("--level", action="append", help="a level name (repeatable)")
    parser.add_argument("--webhook", action="append", metavar="URL", help="repeatable")
    parser.add_argument("--webhook-secret", default=defaults.webhook_secret)
    parser.add_argument("--webhook-alg", choices=DIGEST_ALGORITHMS, default="HMAC_SHA256_HEX")
    parser.add_argument(
        "--retry-delays", type=_delays, default=defaults.webhook_retry_delays,
        help="seconds before each webhook retry, e.g. 1,5,30 (default: Sumsub's 5 min..18 h)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    return SimulatorConfig(
        app_token=args.app_token,
        secret_key=args.secret_key,
        webhook_secret=args.webhook_secret,
        levels=tuple(args.level) if args.level else defaults.levels,
        webhooks=[
            WebhookEndpoint(url, args.webhook_secret, args.webhook_alg)
            for url in args.webhook or ()
        ],
        webhook_retry_delays=args.retry_delays,
        host=args.host,
        port=args.port,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    return serve_until_signal(
        running_simulator(config),
        lambda sim: f"Sumsub simulator listening on {sim.url} (app token {config.app_token})",
    )


if __name__ == "__main__":
    sys.exit(main())
