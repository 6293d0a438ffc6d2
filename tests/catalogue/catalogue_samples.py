"""The sample product and the families it uses (shared by the catalogue tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from propdesk.rules.families.daily_loss import DailyLoss
from propdesk.rules.families.max_loss import MaxLoss
from propdesk.rules.family import RuleFamily

SAMPLES = Path(__file__).parent / "samples"
TWO_STEP = SAMPLES / "two_step.json"

#: The families the sample uses; pure tests pin these so other families cannot change them.
FAMILIES: dict[str, type[RuleFamily]] = {DailyLoss.code: DailyLoss, MaxLoss.code: MaxLoss}


def load_two_step() -> dict[str, Any]:
    return json.loads(TWO_STEP.read_text(encoding="utf-8"))
