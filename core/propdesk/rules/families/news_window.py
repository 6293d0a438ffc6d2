"""News windows: no trading on the instruments a release moves, shortly before and after it.

A ``news`` event (from an economic calendar, ahead of the release) opens a window
``[at - minutes_before, at + minutes_after]``, bounds included, on the symbols it names, when
its impact is one the rule covers. A deal on such a symbol inside the window violates when its
entry is in ``scope`` (``open``: a deal that opens or adds to a position; ``close``: one that
reduces or closes it; fills of pending orders, stop losses and take profits are deals like any
other). The consequence is ``fail``, ``warn`` (every violating deal), or ``exclude_profit``:
the net result of a position with a violating deal does not count towards the objectives,
decided when the position is fully closed; only a profit is excluded, a loss stays counted.

The rule decides on each deal when it arrives, from the releases known by then. A release
that arrives late, when its window has already begun, does not re-judge the deals before it:
a verdict never changes with hindsight, and a replay of the journal gives the same result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.calendar import IMPACTS
from propdesk.rules.clock import utc
from propdesk.rules.events import Deal, Event, News
from propdesk.rules.families.max_position import lots
from propdesk.rules.family import Finding, Outcome, PhaseContext, RuleFamily
from propdesk.rules.money import ZERO, money, plain

CONSEQUENCES = {
    "fail": "fails the account",
    "exclude_profit": "means the trade's profit does not count towards the objectives",
    "warn": "is recorded as a warning",
}
OUTCOMES: dict[str, Outcome] = {"fail": "breach", "warn": "warn"}
ENTRY_SCOPE = {"in": "open", "out": "close"}
SCOPE_DEALS = {"open": "opening", "close": "closing"}
#: Windows listed in the objective.
SHOWN_WINDOWS = 5


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    news: News

    def covers(self, deal: Deal) -> bool:
        return self.start <= deal.time <= self.end and deal.symbol in self.news.symbols


def _clock(instant: datetime) -> str:
    return utc(instant).replace("T", " ").replace("Z", " UTC")


def _distance(seconds: float) -> str:
    whole = int(abs(seconds))
    minutes, rest = divmod(whole, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _minutes(value: int) -> str:
    return f"{value} minute{'s' if value != 1 else ''}"


class NewsWindow(RuleFamily):
    code = "news_window"
    display_name = "News trading window"
    reacts_to = frozenset({"deal", "news"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "minutes_before": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10080,
                "default": 2,
                "description": "Minutes before the release the window opens.",
            },
            "minutes_after": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10080,
                "default": 2,
                "description": "Minutes after the release the window closes.",
            },
            "impacts": {
                "type": "array",
                "items": {"enum": list(IMPACTS)},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["high"],
                "description": "Impacts of the releases that open a window.",
            },
            "scope": {
                "type": "array",
                "items": {"enum": ["open", "close"]},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["open", "close"],
                "description": "Deals that count: open (opening or adding) and/or close.",
            },
            "consequence": {
                "enum": list(CONSEQUENCES),
                "default": "fail",
                "description": "fail: the account fails; exclude_profit: the trade's profit "
                "does not count towards the objectives; warn: a warning, trading goes on.",
            },
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.before = int(params.get("minutes_before", 2))
        self.after = int(params.get("minutes_after", 2))
        self.impacts = frozenset(params.get("impacts", ["high"]))
        self.scope = frozenset(params.get("scope", ["open", "close"]))
        self.consequence = params.get("consequence", "fail")
        #: Windows not over yet as of ``now``, by start.
        self.windows: list[Window] = []
        #: Open positions with a deal in a window: their profit is excluded when they close.
        self.flagged: dict[str, Window] = {}
        self.now: datetime | None = None
        self.hits = 0
        self.excluded = ZERO

    def on_event(self, event: Event, account: Account) -> Finding | None:
        self.now = event.time
        self.windows = [window for window in self.windows if window.end >= event.time]
        if isinstance(event, News):
            self._learn(event)
            return None
        if not isinstance(event, Deal):
            return None
        window = self._window_of(event)
        if window is not None:
            self.hits += 1
            if self.consequence != "exclude_profit":
                return self._violation(event, window)
            if event.position in account.positions or (
                account.closed is not None and account.closed[0] == event.position
            ):
                self.flagged.setdefault(event.position, window)
        if account.closed is not None and account.closed[0] in self.flagged:
            return self._exclude(event.time, account)
        return None

    def _learn(self, news: News) -> None:
        if news.impact.lower() not in self.impacts or any(
            window.news.at == news.at
            and window.news.title == news.title
            and window.news.symbols == news.symbols
            for window in self.windows
        ):
            return  # Not covered, or the same release again (calendars are re-read).
        start = news.at - timedelta(minutes=self.before)
        end = news.at + timedelta(minutes=self.after)
        if end >= news.time:  # A window already over has nothing left to judge.
            self.windows.append(Window(start, end, news))
            self.windows.sort(key=lambda window: (window.start, window.news.at))

    def _window_of(self, deal: Deal) -> Window | None:
        if ENTRY_SCOPE[deal.entry] not in self.scope:
            return None
        return next((window for window in self.windows if window.covers(deal)), None)

    def _where(self, deal: Deal, window: Window) -> str:
        news = window.news
        offset = (deal.time - news.at).total_seconds()
        if offset < 0:
            relative = f"{_distance(offset)} before"
        elif offset > 0:
            relative = f"{_distance(offset)} after"
        else:
            relative = "at the time of"
        action = "opened" if deal.entry == "in" else "closed"
        return (
            f"{deal.side.capitalize()} {deal.symbol} {lots(deal.volume)} {action} "
            f"(deal {deal.id}) at {_clock(deal.time)}, {relative} the {news.impact}-impact "
            f'release "{news.title}" at {_clock(news.at)}'
        )

    def _rule_text(self, window: Window, symbol: str) -> str:
        deals = " or ".join(SCOPE_DEALS[kind] for kind in ("open", "close") if kind in self.scope)
        return (
            f"no {deals} deals on {symbol} from {_clock(window.start)} to "
            f"{_clock(window.end)} ({_minutes(self.before)} before to "
            f"{_minutes(self.after)} after)"
        )

    def _violation(self, deal: Deal, window: Window) -> Finding:
        text = f"{self._where(deal, window)}; {self._rule_text(window, deal.symbol)}."
        return self.finding(
            OUTCOMES[self.consequence],
            deal.time,
            text,
            deal=deal.id,
            release_at=utc(window.news.at),
            window_from=utc(window.start),
            window_to=utc(window.end),
        )

    def _exclude(self, at: datetime, account: Account) -> Finding | None:
        assert account.closed is not None
        position_id, position = account.closed
        window = self.flagged.pop(position_id)
        if position.net <= 0:
            return None  # A loss is not excluded: it counts like any other.
        self.excluded += position.net
        currency = self.context.currency
        return self.finding(
            "exclude_profit",
            at,
            f"Position {position_id} ({position.side} {position.symbol}) traded inside the "
            f'window of the {window.news.impact}-impact release "{window.news.title}" at '
            f"{_clock(window.news.at)} ({_clock(window.start)} to {_clock(window.end)}); its "
            f"net profit of {money(position.net)} {currency} does not count towards the "
            "objectives.",
            amount=position.net,
            position=position_id,
            net=position.net,
            release_at=utc(window.news.at),
        )

    def objective(self, account: Account) -> dict[str, Any]:
        if not self.hits:
            status = "ok"
        else:
            status = {"fail": "breached", "warn": "warned", "exclude_profit": "excluding"}[
                self.consequence
            ]
        upcoming = [
            {
                "release": window.news.title,
                "impact": window.news.impact,
                "at": utc(window.news.at),
                "from": utc(window.start),
                "to": utc(window.end),
                "symbols": list(window.news.symbols),
            }
            for window in self.windows[:SHOWN_WINDOWS]
        ]
        return {
            "status": status,
            "windows_hit": self.hits,
            "excluded_profit": plain(self.excluded),
            "flagged_positions": sorted(self.flagged),
            "upcoming_windows": upcoming,
            "as_of": utc(self.now) if self.now else None,
            "text": (
                f"no trading {_minutes(self.before)} before to {_minutes(self.after)} after "
                f"{'/'.join(sorted(self.impacts))}-impact news"
            ),
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        before = _minutes(int(params.get("minutes_before", 2)))
        after = _minutes(int(params.get("minutes_after", 2)))
        impacts = [i for i in IMPACTS if i in params.get("impacts", ["high"])]
        scope = set(params.get("scope", ["open", "close"]))
        what = (
            "open or close positions"
            if scope == {"open", "close"}
            else ("open or add to positions" if "open" in scope else "close positions")
        )
        consequence = CONSEQUENCES[params.get("consequence", "fail")]
        return (
            f"Do not {what} on an instrument from {before} before to {after} after a "
            f"{' or '.join(impacts)}-impact news release that moves it (pending orders, stop "
            f"losses and take profits filled then count too). Trading inside such a window "
            f"{consequence}."
        )
