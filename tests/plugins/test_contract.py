"""The plugin contract fails at startup: unknown hooks, unmarked hooks, duplicate codes."""

from __future__ import annotations

import types
from typing import Any, ClassVar

import pytest

from propdesk import hookimpl
from propdesk.access.permissions import Permission
from propdesk.errors import ConfigurationError
from propdesk.plugins.manager import PluginHost
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext

SETTINGS = Settings(load_entrypoints=False)


def plugin(**hooks: Any) -> types.ModuleType:
    module = types.ModuleType("test_plugin")
    for name, fn in hooks.items():
        setattr(module, name, hookimpl(fn))
    return module


class Mt5Like:
    code: ClassVar[str] = "mt5"
    display_name: ClassVar[str] = "MetaTrader 5"
    settings_schema: ClassVar[dict[str, Any]] = {}


def test_unknown_hook_aborts_startup() -> None:
    typo = plugin(propdesk_register_platfroms=lambda: [Mt5Like])
    with pytest.raises(ConfigurationError, match=r"propdesk_register_platfroms"):
        PluginHost.load(SETTINGS, [("typo", typo)])


def test_hook_without_marker_aborts_startup() -> None:
    unmarked = types.ModuleType("unmarked")
    unmarked.propdesk_register_platforms = lambda: [Mt5Like]  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r"not decorated with @propdesk\.hookimpl"):
        PluginHost.load(SETTINGS, [("unmarked", unmarked)])


def test_duplicate_platform_code_names_both_plugins() -> None:
    first = plugin(propdesk_register_platforms=lambda: [Mt5Like])
    second = plugin(propdesk_register_platforms=lambda: [Mt5Like])
    with pytest.raises(ConfigurationError, match=r"duplicate PlatformAdapter code 'mt5'.*'a'.*'b'"):
        PluginHost.load(SETTINGS, [("a", first), ("b", second)])


def test_duplicate_permission_aborts_startup() -> None:
    again = plugin(propdesk_register_permissions=lambda: [Permission("staff", "read", "again")])
    with pytest.raises(ConfigurationError, match="staff:read"):
        PluginHost.load(SETTINGS, [("again", again)])


def test_invalid_settings_schema_aborts_startup() -> None:
    bad = plugin(propdesk_register_settings_schema=lambda: {"type": "no-such-type"})
    with pytest.raises(ConfigurationError, match="not a valid JSON Schema"):
        PluginHost.load(SETTINGS, [("bad", bad)])


def test_component_missing_identity_aborts_startup() -> None:
    class Nameless:
        code = "x"

    bad = plugin(propdesk_register_kyc_providers=lambda: [Nameless])
    with pytest.raises(ConfigurationError, match="no 'display_name'"):
        PluginHost.load(SETTINGS, [("bad", bad)])


def test_components_are_usable_only_by_tenants_that_enable_their_plugin() -> None:
    host = PluginHost.load(
        SETTINGS, [("mt5", plugin(propdesk_register_platforms=lambda: [Mt5Like]))]
    )
    platforms = host.component("propdesk_register_platforms")
    assert platforms.get("mt5") is Mt5Like
    assert platforms.for_tenant(TenantContext("a", plugins={"mt5": {}})) == {"mt5": Mt5Like}
    assert platforms.for_tenant(TenantContext("b")) == {}


def test_disabled_plugin_is_not_loaded() -> None:
    settings = Settings(load_entrypoints=False, disabled_plugins="mt5, other")
    host = PluginHost.load(
        settings, [("mt5", plugin(propdesk_register_platforms=lambda: [Mt5Like]))]
    )
    assert "mt5" not in host.plugin_names()
    assert "mt5" not in host.component("propdesk_register_platforms")


def test_core_permissions_come_through_the_contract() -> None:
    host = PluginHost.load(SETTINGS)
    info = {i.name: i for i in host.plugins_info()}
    assert info["propdesk.access"].core
    assert "propdesk_register_permissions" in info["propdesk.access"].hooks
    assert ("audit", "read") in host.permissions()
