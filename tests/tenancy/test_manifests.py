"""Bad manifests are refused with the file and the field, and nothing is created."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from propdesk import hookimpl
from propdesk.errors import ManifestError
from propdesk.plugins.manager import PluginHost
from propdesk.runtime import Runtime
from propdesk.tenancy import service
from propdesk.tenancy.models import Tenant
from propdesk.tenancy.secrets import SECRET_REF

GOOD = """
display_name = "Good Desk"
domains = ["{slug}.example.test"]
base_currency = "EUR"
timezone = "Europe/Paris"
"""


def greeter() -> types.ModuleType:
    module = types.ModuleType("greeter")
    module.propdesk_register_settings_schema = hookimpl(
        lambda: {  # type: ignore[attr-defined]
            "type": "object",
            "required": ["port"],
            "additionalProperties": False,
            "properties": {"port": {"type": "integer", "maximum": 65535}, "token": SECRET_REF},
        }
    )
    return module


@pytest.fixture
def runtime(propdesk_runtime: Runtime) -> Runtime:
    host = PluginHost.load(propdesk_runtime.settings, [("greeter", greeter())])
    return Runtime(propdesk_runtime.settings, host, propdesk_runtime.db, propdesk_runtime.redis_url)


def write(root: Path, slug: str, body: str) -> Path:
    (root / slug).mkdir(parents=True)
    (root / slug / "tenant.toml").write_text(body)
    return root / slug / "tenant.toml"


async def tenant_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Tenant)) or 0


async def schema_exists(runtime: Runtime, schema: str) -> bool:
    async with runtime.db.owner_engine.connect() as conn:
        return bool(
            await conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
        )


def problems_of(exc: ManifestError) -> list[str]:
    return [f"{p.field} {p.message}" for p in exc.problems]


async def refused(runtime: Runtime, root: Path) -> list[str]:
    before = await tenant_count(runtime)
    with pytest.raises(ManifestError) as info:
        manifests = service.load_manifests(root, runtime)
        await service.apply_manifests(runtime, manifests)
    assert await tenant_count(runtime) == before, "a refused manifest must create nothing"
    return problems_of(info.value)


async def test_unsafe_slug_is_refused_naming_file_and_field(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = write(tmp_path, "Bad-Desk", GOOD.format(slug="bad"))
    write(tmp_path, "fine_desk", GOOD.format(slug="fine"))
    problems = await refused(runtime, tmp_path)
    assert problems == [
        f"{path}#/slug 'Bad-Desk' is not a safe identifier: use 2-40 lowercase "
        "letters, digits or underscores, starting with a letter (the folder name "
        "is the slug)"
    ]
    assert not await schema_exists(runtime, "t_fine_desk"), "the good file is not applied either"


async def test_unknown_plugin_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path, "plug_desk", GOOD.format(slug="plug") + "\n[plugins.nope]\nx = 1\n")
    [problem] = await refused(runtime, tmp_path)
    # The configurable plugins installed are listed (bundled platform plugins among them).
    found = re.fullmatch(
        re.escape(f"{path}#/plugins/nope unknown plugin 'nope' ") + r"\(installed: (.*)\)",
        problem,
    )
    assert found is not None, problem
    listed = found.group(1).split(", ")
    assert listed == sorted(listed)
    assert {"greeter", "propdesk.calendar", "propdesk.email", "propdesk.engine"} <= set(listed)


async def test_plugin_settings_failing_its_schema_name_the_field(
    runtime: Runtime, tmp_path: Path
) -> None:
    body = GOOD.format(slug="cfg") + '\n[plugins.greeter]\nport = 70000\ntoken = "plain-secret"\n'
    path = write(tmp_path, "cfg_desk", body)
    problems = await refused(runtime, tmp_path)
    assert f"{path}#/plugins/greeter/port 70000 is greater than the maximum of 65535" in problems
    assert any(p.startswith(f"{path}#/plugins/greeter/token ") for p in problems)
    assert not await schema_exists(runtime, "t_cfg_desk")


async def test_missing_and_malformed_fields(runtime: Runtime, tmp_path: Path) -> None:
    body = 'base_currency = "usd"\ntimezone = "Mars/Olympus"\ncolour = "red"\n'
    path = write(tmp_path, "shape_desk", body)
    problems = await refused(runtime, tmp_path)
    assert f"{path}#/display_name is required" in problems
    assert f"{path}#/colour is not a known field" in problems
    assert any(p.startswith(f"{path}#/base_currency ") for p in problems)
    assert f"{path}#/timezone 'Mars/Olympus' is not an IANA time zone" in problems


async def test_missing_logo_and_bad_toml(runtime: Runtime, tmp_path: Path) -> None:
    logo = write(tmp_path, "logo_desk", GOOD.format(slug="logo") + '[theme]\nlogo = "x.svg"\n')
    broken = write(tmp_path, "toml_desk", "display_name = \n")
    problems = await refused(runtime, tmp_path)
    assert f"{logo}#/theme/logo file 'x.svg' not found next to tenant.toml" in problems
    assert any(p.startswith(f"{broken}# not valid TOML") for p in problems)


async def test_domain_claimed_twice(runtime: Runtime, tmp_path: Path) -> None:
    write(tmp_path, "one_desk", GOOD.format(slug="same"))
    second = write(tmp_path, "two_desk", GOOD.format(slug="same"))
    problems = await refused(runtime, tmp_path)
    assert problems == [
        f"{second}#/domains/0 'same.example.test' is already used by "
        f"{tmp_path / 'one_desk' / 'tenant.toml'}"
    ]


async def test_valid_plugin_settings_are_stored_with_secret_references(
    runtime: Runtime, tmp_path: Path
) -> None:
    body = GOOD.format(slug="ok") + '\n[plugins.greeter]\nport = 8443\ntoken = { env = "TOK" }\n'
    write(tmp_path, "ok_desk", body)
    report = await service.apply_manifests(runtime, service.load_manifests(tmp_path, runtime))
    assert "enabled plugin greeter" in report.tenants[0].changes
    tenant = await service.get_tenant(runtime, "ok_desk")
    assert tenant is not None
    assert tenant.settings_for("greeter") == {"port": 8443, "token": {"env": "TOK"}}
