"""Running ``propdesk replay`` in tests: through click's runner, on the golden fixtures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

import propdesk.cli

GOLDEN = Path(__file__).parent / "golden"
_registered = False


def invoke(args: Sequence[str]) -> Result:
    """``propdesk <args>`` in-process, stdout and stderr kept apart."""
    global _registered
    if not _registered:
        propdesk.cli._register_commands()
        _registered = True
    return CliRunner().invoke(propdesk.cli.cli, list(args))


def replay_args(
    product: Path,
    events: Path,
    phase: str,
    *,
    until: str | None = None,
    size: str | None = None,
    addons: Sequence[str] = (),
) -> list[str]:
    args = ["replay", "--product", str(product), "--phase", phase, "--events", str(events)]
    if size is not None:
        args += ["--size", size]
    for addon in addons:
        args += ["--addon", addon]
    if until is not None:
        args += ["--until", until]
    return [*args, "--json"]


def verdict(
    product: Path,
    events: Path,
    phase: str,
    *,
    until: str | None = None,
    size: str | None = None,
    addons: Sequence[str] = (),
) -> dict[str, Any]:
    """The verdict ``propdesk replay --json`` prints; fails the test on a non-zero exit."""
    result = invoke(replay_args(product, events, phase, until=until, size=size, addons=addons))
    assert result.exit_code == 0, result.stderr or result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def first_lines(source: Path, count: int, folder: Path) -> Path:
    """A copy of the first ``count`` events of ``source``: the history as it stood then."""
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert count <= len(lines), f"{source.name} has only {len(lines)} events"
    target = folder / f"{source.stem}.first{count}.jsonl"
    target.write_text("\n".join(lines[:count]) + "\n", encoding="utf-8")
    return target


def objective(data: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [o for o in data["objectives"] if o["rule"] == rule]
    assert found, f"no objective {rule!r} in {[o['rule'] for o in data['objectives']]}"
    return found[0]


class Golden:
    """One golden vector: ``<name>.product.json`` and its event files."""

    def __init__(
        self, name: str, phase: str, tmp_path: Path, *, events_of: str | None = None
    ) -> None:
        self.product = GOLDEN / f"{name}.product.json"
        #: Whose event files: its own, or another vector's (the same history, other rules).
        self.events_name = events_of or name
        self.phase = phase
        self.tmp_path = tmp_path

    def events(self, variant: str = "") -> Path:
        return GOLDEN / f"{self.events_name}{'.' + variant if variant else ''}.events.jsonl"

    def replay(
        self,
        *,
        variant: str = "",
        first: int | None = None,
        until: str | None = None,
        size: str | None = None,
        addons: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The verdict on the whole event file, or on its ``first`` events only."""
        events = self.events(variant)
        if first is not None:
            events = first_lines(events, first, self.tmp_path)
        return verdict(self.product, events, self.phase, until=until, size=size, addons=addons)
