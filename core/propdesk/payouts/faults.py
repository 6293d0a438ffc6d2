"""Crash points for ``propdesk chaos payouts``: the worker kills itself (SIGKILL) at the riskiest
moments of a payout, the ones a kill from outside rarely hits (the rail paid, the commit not yet
made). Inert unless ``PROPDESK_CHAOS_CRASH_RATE`` is set, which only the chaos harness does."""

from __future__ import annotations

import os
import random
import signal

import structlog

log = structlog.get_logger(__name__)

ENV = "PROPDESK_CHAOS_CRASH_RATE"
#: Where the worker can be made to die, in workflow order.
POINTS = ("withdrawn_not_recorded", "submitted", "paid_not_recorded", "paid_recorded")


def crash_point(name: str) -> None:
    rate = float(os.environ.get(ENV) or 0)
    if rate and random.random() < rate:
        log.warning("chaos.crash", point=name, pid=os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)
