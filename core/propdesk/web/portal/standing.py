"""Where one of the trader's challenges stands: its account, the engine's objectives (the same
explanation staff read, ``engine.views``) and the equity chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.catalogue import service as catalogue
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.models import CatalogueVersion
from propdesk.engine import views
from propdesk.engine.curve import equity_curve
from propdesk.engine.models import AccountState, TradingAccount
from propdesk.lifecycle import machine
from propdesk.lifecycle.models import ChallengeRow
from propdesk.rules.clock import LocalTime
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.web.portal.objectives import Objective, chart_spec, current_floors, shape

#: Challenges whose numbers still move (or whose account is on its way): watched live.
LIVE = (machine.PROVISIONING, machine.ACTIVE, machine.FUNDED, machine.PAUSED)
CHART_LABELS = "%d %b %H:%M"


@dataclass(frozen=True, slots=True)
class Standing:
    challenge: ChallengeRow
    product: CatalogueVersion
    account: TradingAccount | None
    state: AccountState | None
    explanation: views.Explanation | None
    objectives: list[Objective]

    @property
    def live(self) -> bool:
        return self.challenge.status in LIVE

    @property
    def name(self) -> str:
        return str(self.product.content.get("name") or self.challenge.product_code)

    @property
    def phase_name(self) -> str:
        phases = self.product.content.get("phases") or []
        phase = self.challenge.phase
        return (
            str(phases[phase].get("name") or phases[phase]["code"]) if phase < len(phases) else ""
        )


async def standing_of(
    runtime: Runtime, tenant: TenantContext, session: AsyncSession, row: ChallengeRow
) -> Standing:
    """The challenge with its account and the engine's explanation of it now."""
    product = await catalogue.by_hash(session, row.version_hash)
    account = await views.challenge_account(session, row.id)
    if account is None:
        return Standing(row, product, None, None, None, [])
    families = rule_families(runtime.host, tenant)
    found = await views.timeline(session, families, account.id)
    objectives = shape(found.explanation.objectives, families, account.currency)
    return Standing(row, product, account, found.state, found.explanation, objectives)


async def chart_of(session: AsyncSession, standing: Standing) -> dict[str, Any] | None:
    """The equity chart's spec (``_ui.chart``), or None before the account has a reading."""
    if standing.account is None:
        return None
    day = LocalTime.parse(standing.product.content["trading_day"])
    points = await equity_curve(session, standing.account.id, day)
    if not points:
        return None
    floors = current_floors(standing.explanation.objectives if standing.explanation else [])
    return chart_spec(points, floors, CHART_LABELS)
