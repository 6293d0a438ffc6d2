"""``python -m propdesk_mt5.simulator``: serve a simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal

from propdesk.testing.simulators import serve_until_signal
from propdesk_mt5.simulator.core import SimulatorConfig
from propdesk_mt5.simulator.server import running_simulator


def _manager(text: str) -> tuple[int, str]:
    login, sep, password = text.partition(":")
    if not sep or not login.isdigit() or not password:
        raise argparse.ArgumentTypeError("a manager is LOGIN:PASSWORD")
    return int(login), password


def parse_args(argv: Sequence[str] | None = None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m propdesk_mt5.simulator", description="A simulated MT5 Web API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    parser.add_argument(
        "--manager", type=_manager, action="append", help="LOGIN:PASSWORD (repeatable)"
    )
    parser.add_argument("--group", action="append", help="a group name (repeatable)")
    parser.add_argument("--timezone", default="+02:00", help="server time zone")
    parser.add_argument("--market", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--tick-seconds", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stopout", default="50", help="stop-out level of the groups, %%")
    parser.add_argument("--first-login", type=int, default=500_000)
    parser.add_argument(
        "--traders", choices=("none", "auto"), default="none",
        help="auto: a simulated trader on every account created",
    )  # fmt: skip
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        parser.error("--certfile and --keyfile go together")
    config = SimulatorConfig(
        server_timezone=args.timezone,
        market_running=args.market,
        tick_seconds=args.tick_seconds,
        seed=args.seed,
        host=args.host,
        port=args.port,
        stopout=Decimal(args.stopout),
        first_login=args.first_login,
        traders_auto=args.traders == "auto",
        certfile=args.certfile,
        keyfile=args.keyfile,
    )
    if args.manager:
        config.managers = dict(args.manager)
    if args.group:
        config.groups = tuple(args.group)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    managers = ", ".join(str(login) for login in config.managers)
    return serve_until_signal(
        running_simulator(config),
        lambda sim: f"MT5 simulator listening on {sim.url} (manager {managers})",
    )


if __name__ == "__main__":
    sys.exit(main())
