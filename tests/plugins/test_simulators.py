"""``propdesk_register_simulators``: the bundled plugins' simulators under the core's contract."""

from __future__ import annotations

import httpx
import pytest
from jsonschema import Draft202012Validator

from propdesk import hookimpl
from propdesk.errors import ConfigurationError
from propdesk.plugins.manager import PluginHost
from propdesk.settings import Settings
from propdesk.simulators import (
    KycSimulator,
    PaymentSimulator,
    PayoutRailSimulator,
    PlatformSimulator,
    SimulatorSetup,
)
from propdesk.tenancy.secrets import resolve_secrets

ROLES = {
    "platform": PlatformSimulator,
    "payment_provider": PaymentSimulator,
    "kyc_provider": KycSimulator,
    "rail": PayoutRailSimulator,
}


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost.load(Settings())


def test_the_bundled_plugins_register_their_simulators(host: PluginHost) -> None:
    registry = host.simulators()
    assert {(e.code, e.plugin) for e in registry} >= {
        ("mt5", "mt5"),
        ("stripe", "psp_stripe"),
        ("sumsub", "kyc_sumsub"),
    }
    assert registry.get("stripe").rail == "stripe"  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", ["mt5", "stripe", "sumsub"])
def test_a_simulator_serves_and_points_a_desk_at_itself(
    host: PluginHost, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = host.simulators().get(code)
    setup = SimulatorSetup(desk="acme", env_prefix="SIMTEST_ACME_", groups=("demo\\acme",))
    with cls(setup) as simulator:
        url = simulator.url
        assert httpx.get(f"{url}/__sim__/health").status_code == 200
        found = simulator.desk_settings()
        schema = host.settings_schemas()[cls.plugin]
        assert list(Draft202012Validator(schema).iter_errors(found.settings)) == []
        assert found.env and all(name.startswith("SIMTEST_ACME_") for name in found.env)
        for name, value in found.env.items():
            monkeypatch.setenv(name, value)
        resolved = resolve_secrets(found.settings)
        assert set(found.env.values()) <= set(map(str, resolved.values()))
        for role, protocol in ROLES.items():
            assert isinstance(simulator, protocol) == hasattr(cls, role)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/__sim__/health", timeout=2)


def test_a_simulator_without_its_identity_is_refused() -> None:
    class Nameless:
        code = "nameless"

    class Plugin:
        @hookimpl
        def propdesk_register_simulators(self) -> list[type]:
            return [Nameless]

    host = PluginHost.load(Settings(load_entrypoints=False), [("nameless", Plugin())])
    with pytest.raises(ConfigurationError, match="has no 'display_name' string"):
        host.simulators()
