"""``propdesk catalog``: validate files without a database; publish, list, show, diff and
retire against the test database (as a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from propdesk.catalogue.product import content_hash
from propdesk.cli.catalog import catalog
from propdesk.errors import NotFound
from propdesk.runtime import Runtime
from propdesk.settings import get_settings
from propdesk.tenancy.context import TenantContext


def write(folder: Path, name: str, content: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    return path


def test_validate_prints_every_problem_of_every_file_and_exits_1(tmp_path: Path, two_step):
    good = write(tmp_path, "good.json", two_step)
    two_step["code"] = "one-step"
    two_step["currency"] = "usd"
    two_step["phases"][0]["rules"][0]["params"]["amount"]["percent"] = "five"
    bad = write(tmp_path, "bad.json", two_step)
    broken = tmp_path / "broken.json"
    broken.write_text('{"code": "x",', encoding="utf-8")

    result = CliRunner().invoke(catalog, ["validate", str(good), str(bad), str(broken)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{bad}#/currency: 'usd' must be a three-letter ISO 4217 currency code in capitals, "
        "e.g. USD"
    )
    assert lines[1].startswith(f"{bad}#/phases/0/rules/0/params/amount/percent: 'five' must be")
    assert lines[2].startswith(f"{broken}#: not valid JSON (line 1 column 14)")
    assert lines[3] == "3 problems in 3 files"


def test_validate_refuses_two_files_of_one_product(tmp_path: Path, two_step):
    first = write(tmp_path, "a.json", two_step)
    second = write(tmp_path, "b.json", two_step)
    result = CliRunner().invoke(catalog, ["validate", str(first), str(second)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{second}#/code: product 'two-step' is also in {first}"


def test_validate_says_valid_with_the_content_hash(tmp_path: Path, two_step):
    path = write(tmp_path, "two_step.json", two_step)
    result = CliRunner().invoke(catalog, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: valid two-step ({content_hash(two_step)})\n"


def test_diff_of_two_files(tmp_path: Path, two_step):
    a = write(tmp_path, "a.json", two_step)
    two_step["payout"]["split_percent"] = "90"
    del two_step["retry"]
    b = write(tmp_path, "b.json", two_step)
    result = CliRunner().invoke(catalog, ["diff", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        '~ /payout/split_percent: "80" -> "90"',
        '- /retry: {"discount_percent": "10", "within_days": 30}',
    ]


def test_the_propdesk_command_has_catalog(tmp_path: Path, two_step):
    path = write(tmp_path, "two_step.json", two_step)
    env = {**os.environ, "PROPDESK_LOAD_ENTRYPOINTS": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "propdesk", "catalog", "validate", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{path}: valid two-step ({content_hash(two_step)})\n"


@pytest.fixture
def cli(monkeypatch, propdesk_runtime: Runtime, propdesk_database_url: str):
    """Run ``propdesk catalog ...`` in this process against the test database."""
    monkeypatch.setenv("PROPDESK_DATABASE_URL", propdesk_database_url)
    monkeypatch.setenv("PROPDESK_REDIS_URL", propdesk_runtime.redis_url)
    monkeypatch.setenv("PROPDESK_LOAD_ENTRYPOINTS", "false")
    get_settings.cache_clear()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(catalog, list(args))

    yield invoke
    get_settings.cache_clear()


def test_publish_all_or_nothing_then_diff_show_list_and_retire(
    cli, desk: TenantContext, tmp_path: Path, two_step
):
    good = write(tmp_path, "two_step.json", two_step)
    one_step = {**two_step, "code": "one-step", "name": "One-Step", "currency": "usd"}
    bad = write(tmp_path, "one_step.json", one_step)

    refused = cli("publish", "--tenant", desk.slug, str(good), str(bad))
    assert refused.exit_code == 1
    assert f"{bad}#/currency: 'usd' must be" in refused.output
    assert "1 problem in the product files: nothing was published" in refused.output
    listed = cli("list", "--tenant", desk.slug)
    assert "No products yet" in listed.output, "the valid file was not published either"

    first = cli("publish", "--tenant", desk.slug, str(good))
    assert first.exit_code == 0, first.output
    assert first.output == f"published two-step v1 ({content_hash(two_step)})\n"
    assert cli("publish", "--tenant", desk.slug, str(good)).output == "two-step unchanged (v1)\n"

    two_step["sizes"][1]["prices"]["USD"] = "560.00"
    write(tmp_path, "two_step.json", two_step)
    second = cli("publish", "--tenant", desk.slug, str(good))
    assert second.output == f"published two-step v2 ({content_hash(two_step)})\n"

    diff = cli("diff", "--tenant", desk.slug, "two-step@v1", "two-step@v2")
    assert diff.output == '~ /sizes/1/prices/USD: "540.00" -> "560.00"\n'

    shown = cli("show", "--tenant", desk.slug, "two-step", "--json")
    assert json.loads(shown.output) == two_step
    book = cli(
        "show", "--tenant", desk.slug, "two-step", "--version", "1", "--rulebook", "markdown"
    )
    assert "| 100k | 100,000.00 USD | 540.00 USD · 499.00 EUR |" in book.output
    assert "two-step v2 (published)" in cli("show", "--tenant", desk.slug, "two-step").output

    assert cli("retire", "--tenant", desk.slug, "two-step", "1").output == "two-step v1 retired\n"
    listed = cli("list", "--tenant", desk.slug)
    assert "two-step" in listed.output and "v2" in listed.output

    missing = cli("show", "--tenant", desk.slug, "two-step", "--version", "7")
    assert isinstance(missing.exception, NotFound)
    assert "has no version 7 (versions: v1, v2)" in str(missing.exception)
