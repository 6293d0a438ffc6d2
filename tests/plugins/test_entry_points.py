"""A third-party plugin installed as its own distribution, found through the entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = textwrap.dedent(
    '''
    """A vendor's plugin, as it would ship in its own wheel."""
    from propdesk import hookimpl
    from propdesk.access.permissions import Permission


    @hookimpl
    def propdesk_register_permissions():
        return [Permission("hello", "greet", "Say hello", default_roles=("support",))]


    @hookimpl
    def propdesk_register_settings_schema():
        return {"type": "object", "properties": {"greeting": {"type": "string"}}}
    '''
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder on sys.path holding an installed distribution 'propdesk-hello' 1.2.3."""
    (tmp_path / "propdesk_hello").mkdir()
    (tmp_path / "propdesk_hello" / "__init__.py").write_text(PLUGIN)
    dist = tmp_path / "propdesk_hello-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: propdesk-hello\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[propdesk.plugins]\nhello = propdesk_hello\n")
    (dist / "RECORD").write_text("")
    return tmp_path


def plugins_list(site: Path, **env: str) -> list[dict]:
    environment = {**os.environ, "PYTHONPATH": str(site)}
    environment.pop("PROPDESK_DISABLED_PLUGINS", None)
    environment.update(env)
    out = subprocess.run(
        [sys.executable, "-m", "propdesk", "plugins", "list", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def test_installed_plugin_is_listed_with_distribution_version_and_hooks(site: Path) -> None:
    plugins = {p["name"]: p for p in plugins_list(site)}
    hello = plugins["hello"]
    assert hello["distribution"] == "propdesk-hello"
    assert hello["version"] == "1.2.3"
    assert hello["hooks"] == ["propdesk_register_permissions", "propdesk_register_settings_schema"]
    assert not hello["core"]


def test_disabled_plugins_env_blocks_it(site: Path) -> None:
    names = [p["name"] for p in plugins_list(site, PROPDESK_DISABLED_PLUGINS="hello")]
    assert "hello" not in names
    assert "propdesk.access" in names


def test_table_output_names_the_plugin(site: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "propdesk", "plugins", "list"],
        env={**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "propdesk-hello" in out.stdout and "1.2.3" in out.stdout
