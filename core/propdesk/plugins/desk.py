"""A desk's adapters (platforms, payment providers, ...): one per desk, kind, code and settings,
kept for the process's life.

An adapter holds connections (an MT5 manager session, an HTTP client pool) that are slow to
open, so the poller, the actions and the routes reuse one per desk rather than building one per
call. The adapters live in a ``DeskComponents`` registry that belongs to the process's
``PluginHost`` (the web app, the worker and the CLI each build their own host):
``desk_component`` finds or makes one there (``desk_platform``, ``desk_payment_provider`` for
the kinds the core uses), and ``close_desk_components(host)`` closes them all when the process
stops.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import structlog

from propdesk.errors import ConfigurationError, NotFound

if TYPE_CHECKING:
    from propdesk.kyc.contract import KycProvider
    from propdesk.payments.contract import PaymentProvider
    from propdesk.payouts.contract import PayoutRail
    from propdesk.platforms.contract import PlatformAdapter

if TYPE_CHECKING:
    from propdesk.plugins.manager import PluginHost
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

PLATFORMS = "propdesk_register_platforms"
PAYMENT_PROVIDERS = "propdesk_register_payment_providers"
KYC_PROVIDERS = "propdesk_register_kyc_providers"
PAYOUT_RAILS = "propdesk_register_payout_rails"
#: What staff read in errors, by registration hook.
_KIND_NAMES = {
    PLATFORMS: "platform",
    PAYMENT_PROVIDERS: "payment provider",
    KYC_PROVIDERS: "KYC provider",
    PAYOUT_RAILS: "payout rail",
}

#: (registration hook, desk slug, code, the settings as canonical JSON).
_Key = tuple[str, str, str, str]


def _settings_key(settings: Mapping[str, Any]) -> str:
    # Settings are JSON from the desk's manifest: their canonical text tells two versions apart.
    return json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)


class DeskComponents:
    """The adapters one process made, by kind, desk, code and settings; ``close()`` at exit.

    A desk whose settings changed gets a new adapter; the one made with the old settings is no
    longer handed out and is closed with the others (calls in flight may still finish on it).
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host
        self._adapters: dict[_Key, Any] = {}
        self._retired: list[Any] = []
        self.closed = False

    def adapter(self, hook: str, tenant: TenantContext, code: str) -> Any:
        """The desk's adapter ``code`` of the kind ``hook`` registers, made with
        ``cls(settings)`` on first use.

        :raises NotFound: no installed plugin registers one with that code.
        :raises ConfigurationError: the desk has not enabled the plugin that registers it.
        """
        if self.closed:
            raise RuntimeError("the desk adapters of this process were closed (shutting down)")
        kind = _KIND_NAMES.get(hook, hook)
        registry = self._host.component(hook)
        entry = next((e for e in registry if e.code == code), None)
        if entry is None:
            known = ", ".join(sorted(e.code for e in registry)) or "none"
            raise NotFound(f"no {kind} {code!r} is installed (installed: {known})")
        plugin = entry.plugin
        # The core's own (the bank rail) need no enabling; a vendor's plugin is configured per
        # desk (server, keys): a desk must have said which.
        if plugin not in self._host.core and not tenant.plugin_enabled(plugin):
            raise ConfigurationError(
                f"desk {tenant.slug!r} uses {kind} {code!r} but has not enabled its "
                f"plugin {plugin!r}: add [plugins.{json.dumps(plugin)}] to its tenant.toml"
            )
        settings = tenant.settings_for(plugin)
        key = (hook, tenant.slug, code, _settings_key(settings))
        found = self._adapters.get(key)
        if found is not None:
            return found
        for old in [k for k in self._adapters if k[:3] == key[:3]]:
            self._retired.append(self._adapters.pop(old))
        made = self._adapters[key] = cast(Any, entry.item)(settings)
        return made

    async def close(self) -> None:
        """Close every adapter made here (each once); errors are logged, not raised."""
        self.closed = True
        adapters, self._adapters = [*self._adapters.values(), *self._retired], {}
        self._retired = []
        for adapter in adapters:
            try:
                await adapter.close()
            except Exception:
                log.exception("adapter.close_failed", code=getattr(adapter, "code", "?"))

    def __len__(self) -> int:
        return len(self._adapters)


_registries: weakref.WeakKeyDictionary[PluginHost, DeskComponents] = weakref.WeakKeyDictionary()


def desk_components(host: PluginHost) -> DeskComponents:
    """The registry of ``host``'s process (made on first use)."""
    registry = _registries.get(host)
    if registry is None or registry.closed:
        registry = _registries[host] = DeskComponents(host)
    return registry


def desk_platform(host: PluginHost, tenant: TenantContext, code: str) -> PlatformAdapter:
    """The desk's adapter for platform ``code`` (see ``DeskComponents.adapter``)."""
    return cast("PlatformAdapter", desk_components(host).adapter(PLATFORMS, tenant, code))


def desk_payment_provider(host: PluginHost, tenant: TenantContext, code: str) -> PaymentProvider:
    """The desk's payment provider ``code`` (see ``DeskComponents.adapter``)."""
    return cast("PaymentProvider", desk_components(host).adapter(PAYMENT_PROVIDERS, tenant, code))


def desk_kyc_provider(host: PluginHost, tenant: TenantContext, code: str) -> KycProvider:
    """The desk's KYC provider ``code`` (see ``DeskComponents.adapter``)."""
    return cast("KycProvider", desk_components(host).adapter(KYC_PROVIDERS, tenant, code))


def desk_payout_rail(host: PluginHost, tenant: TenantContext, code: str) -> PayoutRail:
    """The desk's payout rail ``code`` (see ``DeskComponents.adapter``)."""
    return cast("PayoutRail", desk_components(host).adapter(PAYOUT_RAILS, tenant, code))


async def close_desk_components(host: PluginHost) -> None:
    """Close the adapters made for ``host``: call once when the process stops."""
    registry = _registries.pop(host, None)
    if registry is not None:
        await registry.close()


def desk_codes(host: PluginHost, tenant: TenantContext, hook: str) -> list[str]:
    """The codes of the adapters of kind ``hook`` the desk may use (the core's, and those of
    plugins it enabled), sorted: what a trader may choose from."""
    return sorted(host.component(hook).for_tenant(tenant))
