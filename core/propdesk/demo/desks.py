"""The demo's desks: the manifests in ``tenants/``, each run on simulators of its own.

Every desk gets one instance of each simulator it needs (the platforms its products name, a
PSP, a KYC provider), as a firm has its own accounts with its vendors. Its manifest is applied
with the simulators' settings laid over its plugins, and its payouts go through the PSP's rail
(the manifests themselves stay provider-neutral).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from propdesk.catalogue.service import folder_files
from propdesk.errors import ConfigurationError
from propdesk.simulators import (
    KycSimulator,
    PaymentSimulator,
    PayoutRailSimulator,
    PlatformSimulator,
    Simulator,
    SimulatorSetup,
)
from propdesk.tenancy.secrets import is_secret_ref

if TYPE_CHECKING:
    from propdesk.plugins.registry import Registry
    from propdesk.runtime import Runtime
    from propdesk.tenancy.manifest import TenantManifest

#: The demo's secrets live in variables named so; a desk whose settings name one is the demo's.
ENV_PREFIX = "PROPDESK_DEMO_"
#: The simulated markets run this many times their usual pace: a minute shows a lifecycle.
MARKET_SPEED = 5.0
INSTALL = "pip install -e plugins/mt5 -e plugins/psp_stripe -e plugins/kyc_sumsub"


@dataclass
class DemoDesk:
    slug: str
    name: str
    domain: str | None
    #: The desk's products (code -> JSON), as in its ``challenges/`` folder.
    products: dict[str, dict[str, Any]]
    platforms: dict[str, PlatformSimulator]
    payments: PaymentSimulator
    kyc: KycSimulator
    rail: PayoutRailSimulator | None
    simulators: list[Simulator] = field(default_factory=list)

    def start(self) -> None:
        for simulator in self.simulators:
            simulator.start()

    def stop(self) -> None:
        for simulator in reversed(self.simulators):
            simulator.stop()

    def manifest(self, manifest: TenantManifest) -> TenantManifest:
        """``manifest`` pointed at the running simulators; their secrets go to the environment
        (this process runs the worker and the web app)."""
        plugins = dict(manifest.plugins)
        for simulator in self.simulators:
            found = simulator.desk_settings()
            plugins[simulator.plugin] = found.settings
            os.environ.update(found.env)
        if self.rail is not None:
            payouts = dict(plugins.get("propdesk.payouts", {}))
            payouts["rails"] = [self.rail.rail, "bank"]
            plugins["propdesk.payouts"] = payouts
        return replace(manifest, plugins=plugins)


def _products(manifest: TenantManifest) -> dict[str, dict[str, Any]]:
    paths = folder_files(manifest.folder) if manifest.folder is not None else []
    products = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return {str(p["code"]): p for p in products}


def _find(registry: Registry[type[Simulator]], role: str, code: str | None = None) -> Any:
    """The first registered simulator class with attribute ``role`` (equal to ``code``)."""
    for entry in registry:
        value = getattr(entry.item, role, None)
        if value is not None and (code is None or value == code):
            return entry.item
    return None


def plan_desks(
    runtime: Runtime, manifests: Iterable[TenantManifest], propdesk_url: str
) -> list[DemoDesk]:
    """A desk per manifest with its simulators made (not started); a ``ConfigurationError``
    naming what is missing when the installed plugins register no simulator for it."""
    registry = runtime.host.simulators()
    desks, missing = [], []
    for manifest in manifests:
        products = _products(manifest)
        groups: dict[str, set[str]] = {}
        for product in products.values():
            for phase in product["phases"]:
                groups.setdefault(phase["platform"], set()).add(phase["group"])
        classes = {code: _find(registry, "platform", code) for code in sorted(groups)}
        payments, kyc = _find(registry, "payment_provider"), _find(registry, "kyc_provider")
        missing += [f"the {code} platform" for code, cls in classes.items() if cls is None]
        missing += ["a payment provider"] * (payments is None) + ["a KYC provider"] * (kyc is None)
        roles = {"payments": payments, "kyc": kyc, "rail": _find(registry, "rail")}
        if not missing:
            desks.append(_desk(manifest, products, classes, roles, groups, propdesk_url))
    if missing:
        raise ConfigurationError(
            "propdesk demo runs every desk on simulators, and no installed plugin registers one "
            f"for {', '.join(dict.fromkeys(missing))}. Install the bundled plugins: {INSTALL}"
        )
    return desks


def _desk(
    manifest: TenantManifest,
    products: dict[str, dict[str, Any]],
    platforms: dict[str, type[Simulator]],
    roles: dict[str, type[Simulator] | None],
    groups: dict[str, set[str]],
    propdesk_url: str,
) -> DemoDesk:
    made: dict[type[Simulator], Simulator] = {}  # one instance of a class serves all its roles

    def one(cls: type[Simulator] | None, platform: str = "") -> Any:
        assert cls is not None
        if cls not in made:
            made[cls] = cls(
                SimulatorSetup(
                    desk=manifest.slug,
                    propdesk_url=propdesk_url,
                    env_prefix=f"{ENV_PREFIX}{manifest.slug}_",
                    groups=tuple(sorted(groups.get(platform, ()))),
                    market_speed=MARKET_SPEED,
                )
            )
        return made[cls]

    desk = DemoDesk(
        slug=manifest.slug,
        name=manifest.display_name,
        domain=manifest.domains[0] if manifest.domains else None,
        products=products,
        platforms={code: one(cls, code) for code, cls in platforms.items()},
        payments=one(roles["payments"]),
        kyc=one(roles["kyc"]),
        rail=one(rail) if (rail := roles["rail"]) else None,
    )
    desk.simulators = list(made.values())
    return desk


def made_by_demo(plugins: dict[str, Any]) -> bool:
    """Whether a desk's stored settings are the demo's (they name its secrets' variables)."""

    def refs(value: Any) -> Iterable[str]:
        if is_secret_ref(value):
            yield value["env"]
        elif isinstance(value, dict):
            for item in value.values():
                yield from refs(item)

    return any(name.startswith(ENV_PREFIX) for name in refs(plugins))
