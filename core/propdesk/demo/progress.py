"""The demo in the terminal: the welcome (URLs and sign-ins), a line per thing that happened,
a live count underneath, and the summary at the end."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.live import Live
from rich.table import Table
from rich.text import Text

from propdesk.demo.staff import DEMO_PASSWORD
from propdesk.demo.tally import COUNTED

if TYPE_CHECKING:
    from rich.console import Console

    from propdesk.demo.desks import DemoDesk
    from propdesk.demo.tally import Happening

ONE = {"purchases": "purchase", "breaches": "breach", "passes": "pass", "payouts": "payout"}
STYLE = {
    "purchases": "cyan",
    "breaches": "red",
    "pauses": "dark_orange",
    "passes": "green",
    "approvals": "magenta",
    "payouts": "bold yellow",
}


def welcome(
    console: Console,
    desks: list[DemoDesk],
    base_url: str,
    staff: list[tuple[str, str]],
    traders: dict[str, list[str]],
    log_file: str,
) -> None:
    port = base_url.rsplit(":", 1)[1]
    console.rule("[bold]Propdesk demo")
    for desk in desks:
        site = f"http://{desk.domain}:{port}" if desk.domain else base_url
        console.print(f"[bold]{desk.name}[/] ({desk.slug})")
        console.print(f"  trader portal   {site}/")
        console.print(f"  back office     {site}/backoffice/")
        for simulator in desk.simulators:
            console.print(f"  {simulator.display_name + ' (simulated)':<33} {simulator.url}")
    console.print(f"[bold]Leadership[/]        {base_url}/leadership")
    console.print(
        f"[bold]API[/]               {base_url}/schema  (with the header X-Propdesk-Tenant)"
    )
    console.print(f"\nSign in with the password [bold]{DEMO_PASSWORD}[/]. Staff:")
    for email, role in staff:
        console.print(f"  {email:<34} {role}")
    console.print("Traders, on their desk's portal, as they arrive:")
    for slug, emails in traders.items():
        console.print(f"  {slug:<17} {', '.join(emails)}")
    console.print(f"\nLogs: {log_file}.  Press Ctrl-C to stop.\n")


class Feed:
    """Prints what happened, one line each, under a live count (in a terminal)."""

    def __init__(self, console: Console, started: float) -> None:
        self.console, self.started = console, started
        self.counts: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self.traders = 0
        self.live = Live(self._status(), console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> Feed:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def show(self, happenings: list[Happening], counts: dict[str, int], traders: int) -> None:
        for happening in happenings:
            line = Text(f"{self._clock()}  {happening.desk:<15} ")
            line.append(f"{happening.who:<34} ", style="dim")
            line.append(happening.what, style=STYLE.get(happening.kind, ""))
            self.live.console.print(line)
        self.counts, self.traders = counts, traders
        self.live.update(self._status())

    def _clock(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def _status(self) -> Text:
        status = Text(f"{self._clock()}  ", style="bold")
        for kind in COUNTED:
            status.append(f"{kind} {self.counts[kind]}", style=STYLE[kind])
            status.append("  ·  ")
        status.append(f"{self.traders} traders")
        return status


def summary(console: Console, per_desk: dict[str, dict[str, int]], first: dict[str, float]) -> None:
    table = Table(title="What happened", title_justify="left")
    table.add_column("desk")
    for kind in COUNTED:
        table.add_column(kind, justify="right")
    for slug, counts in per_desk.items():
        table.add_row(slug, *(str(counts.get(kind, 0)) for kind in COUNTED))
    console.print(table)
    if first:
        seen = [f"first {ONE[kind]} after {seconds:g} s" for kind, seconds in first.items()]
        console.print(f"From the first trader's arrival: {', '.join(seen)}.")
