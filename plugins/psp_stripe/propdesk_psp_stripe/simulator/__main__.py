"""``python -m propdesk_psp_stripe.simulator``: serve a simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from propdesk.testing.simulators import serve_until_signal
from propdesk_psp_stripe.simulator.core import (
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    SimulatorConfig,
)
from propdesk_psp_stripe.simulator.server import running_simulator
from propdesk_psp_stripe.simulator.transfers import ACCOUNT_ID
from propdesk_psp_stripe.simulator.webhooks import WebhookEndpoint


def _delays(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("retry delays are seconds, comma separated") from None


def parse_args(argv: Sequence[str] | None = None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m propdesk_psp_stripe.simulator", description="A simulated Stripe API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument(
        "--secret-key", action="append", help=f"an accepted API key (repeatable; default "
        f"{DEFAULT_SECRET_KEY})",
    )  # fmt: skip
    parser.add_argument("--webhook", action="append", default=[], help="an endpoint URL")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument("--retry-delays", type=_delays, help="e.g. 0.5,1,2,4")
    parser.add_argument("--public-url", help="the base of hosted checkout URLs")
    parser.add_argument(
        "--connected-account", action="append", default=[],
        help="an account (acct_…) transfers may go to (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.secret_key and not all(k.startswith(("sk_", "rk_")) for k in args.secret_key):
        parser.error("a secret key starts with sk_ or rk_")
    if not args.webhook_secret.startswith("whsec_"):
        parser.error("a webhook secret starts with whsec_")
    if not all(ACCOUNT_ID.match(a) for a in args.connected_account):
        parser.error("a connected account is acct_ and letters or digits")
    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        webhook_secret=args.webhook_secret,
        webhooks=tuple(WebhookEndpoint(url, args.webhook_secret) for url in args.webhook),
        public_url=args.public_url,
        connected_accounts=tuple(args.connected_account),
    )
    if args.secret_key:
        config.secret_keys = tuple(args.secret_key)
    if args.retry_delays is not None:
        config.webhook_retry_delays = args.retry_delays
    return config


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    webhooks = ", ".join(e.url for e in config.webhooks) or "none"
    return serve_until_signal(
        running_simulator(config),
        lambda sim: (
            f"Stripe simulator listening on {sim.url} (secret key {sim.secret_key}, "
            f"webhooks {webhooks}, webhook secret {sim.webhook_secret})"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
