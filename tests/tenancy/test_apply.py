"""`propdesk tenants apply` is idempotent and says what changed; list, suspend and resume."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from propdesk.embedded import ServiceUrls
from propdesk.runtime import Runtime
from propdesk.tenancy import service
from propdesk.tenancy.manifest import TenantManifest
from propdesk.testing.services import unique_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def propdesk_cli(propdesk_database_url: str, propdesk_urls: ServiceUrls, tmp_path: Path):
    env = {
        **os.environ,
        "PROPDESK_DATABASE_URL": propdesk_database_url,
        "PROPDESK_REDIS_URL": propdesk_urls.redis_url,
        "PROPDESK_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "propdesk", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"propdesk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    return run


async def test_demo_tenants_apply_twice_then_list(propdesk_cli, propdesk_runtime: Runtime) -> None:
    first = propdesk_cli("tenants", "apply", "tenants/")
    assert "aurora_fx: created desk 'Aurora FX' (schema t_aurora_fx)" in first.stdout
    assert "summit_futures: created desk 'Summit Futures' (schema t_summit_futures)" in first.stdout

    second = propdesk_cli("tenants", "apply", "tenants/")
    assert "aurora_fx: nothing changed" in second.stdout
    assert "summit_futures: nothing changed" in second.stdout
    assert second.stdout.rstrip().endswith("Nothing changed.")

    listing = propdesk_cli("tenants", "list").stdout
    for slug, name in (("aurora_fx", "Aurora FX"), ("summit_futures", "Summit Futures")):
        line = next(line for line in listing.splitlines() if f" {slug} " in line)
        assert name in line and f"t_{slug}" in line and "active" in line

    assert propdesk_cli("audit", "verify").returncode == 0


async def test_changed_manifest_reports_each_change(propdesk_runtime: Runtime) -> None:
    manifest = TenantManifest.from_values("change_desk", domains=["change.example.test"])
    await service.apply_manifests(propdesk_runtime, [manifest])
    renamed = TenantManifest.from_values(
        "change_desk", display_name="Renamed Desk", domains=["change.example.test"]
    )
    report = await service.apply_manifests(propdesk_runtime, [renamed])
    assert report.tenants[0].changes == ["display_name: 'Change Desk' -> 'Renamed Desk'"]
    tenant = await service.get_tenant(propdesk_runtime, "change_desk")
    assert tenant is not None and tenant.display_name == "Renamed Desk"


async def test_suspend_and_resume_are_idempotent(propdesk_cli, make_tenant) -> None:
    await make_tenant("pause_desk")
    assert (
        "pause_desk: now suspended"
        in propdesk_cli("tenants", "suspend", "pause_desk", "--reason", "chargebacks").stdout
    )
    assert (
        "pause_desk: already suspended" in propdesk_cli("tenants", "suspend", "pause_desk").stdout
    )
    line = next(x for x in propdesk_cli("tenants", "list").stdout.splitlines() if "pause_desk" in x)
    assert "suspended" in line
    assert "pause_desk: now active" in propdesk_cli("tenants", "resume", "pause_desk").stdout
    missing = propdesk_cli("tenants", "suspend", "no_such_desk", check=False)
    assert missing.returncode != 0 and "no desk with slug 'no_such_desk'" in missing.stderr


async def test_desk_events_reach_the_plugins_the_desk_enabled(propdesk_runtime: Runtime) -> None:
    """Provisioning and suspension are outbox events; the worker hands them to the plugins."""
    import types

    from propdesk import hookimpl
    from propdesk.plugins.manager import PluginHost
    from propdesk.tenancy.context import current_tenant
    from propdesk.worker.settings import run_worker

    seen: list[tuple[str, str, str]] = []

    async def on_event(tenant, event) -> None:
        seen.append((tenant.slug, current_tenant().slug, event.name))

    listener = types.ModuleType("listener")
    listener.propdesk_on_event = hookimpl(on_event)  # type: ignore[attr-defined]
    # A queue of its own and no sweep: only this test's events, not every desk's in the database.
    settings = propdesk_runtime.settings.model_copy(update={"queue_name": unique_name("evt_q")})
    host = PluginHost.load(settings, [("desk_listener", listener)])
    runtime = Runtime(settings, host, propdesk_runtime.db, propdesk_runtime.redis_url)
    try:
        listening = TenantManifest.from_values("evt_on", plugins={"desk_listener": {}})
        deaf = TenantManifest.from_values("evt_off")
        await service.apply_manifests(runtime, [listening, deaf])
        await service.set_status(runtime, "evt_on", "suspended", "test")
        await service.set_status(runtime, "evt_on", "active", "test")
        await asyncio.wait_for(
            run_worker(runtime, burst=True, handle_signals=False, cron_jobs=[]), timeout=60
        )
    finally:
        await runtime.queue.close()
    ours = sorted(s for s in seen if s[0].startswith("evt_"))  # jobs run concurrently
    assert ours == [
        ("evt_on", "evt_on", "desk.provisioned"),
        ("evt_on", "evt_on", "desk.resumed"),
        ("evt_on", "evt_on", "desk.suspended"),
    ]


async def test_fractional_settings_from_toml_are_applied_and_audited_exactly(
    propdesk_runtime: Runtime, tmp_path: Path
) -> None:
    """``poll_seconds = 0.5`` reads as a float; the audit chain refuses floats, so the trail
    records the decimal text as written, and the desk gets its setting."""
    slug = unique_name("frac").lower()[:30]
    folder = tmp_path / slug
    folder.mkdir()
    (folder / "tenant.toml").write_text(
        'display_name = "Fractions"\nbase_currency = "USD"\ntimezone = "UTC"\n'
        '[plugins."propdesk.engine"]\npoll_seconds = 0.5\n'
    )
    manifests = service.load_manifests(tmp_path, propdesk_runtime)
    report = await service.apply_manifests(propdesk_runtime, manifests)
    assert report.tenants[0].created
    tenant = await service.get_tenant(propdesk_runtime, slug)
    assert tenant is not None
    assert tenant.settings_for("propdesk.engine")["poll_seconds"] == 0.5
    async with propdesk_runtime.db.owner_engine.connect() as conn:
        after = await conn.scalar(
            text(
                "SELECT after FROM propdesk.audit_log WHERE target = :t ORDER BY seq DESC LIMIT 1"
            ),
            {"t": f"tenant:{slug}"},
        )
    assert after["plugins"]["propdesk.engine"]["poll_seconds"] == "0.5"
