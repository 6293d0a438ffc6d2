"""A desk's platform adapters: one per desk, platform and settings, kept for the process's life.

An adapter holds connections (an MT5 manager session, a cTrader socket) that are slow to open,
so the poller and the actions reuse one per desk rather than building one per call. The
adapters live in a ``DeskPlatforms`` registry that belongs to the process's ``PluginHost`` (the
web app, the worker and the CLI each build their own host): ``desk_platform`` finds or makes an
adapter there, and ``close_desk_platforms(host)`` closes them all when the process stops.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import structlog

from propdesk.errors import ConfigurationError, NotFound
from propdesk.platforms.contract import PlatformAdapter

if TYPE_CHECKING:
    from propdesk.plugins.manager import PluginHost
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

HOOK = "propdesk_register_platforms"

#: (desk slug, platform code, the settings as canonical JSON).
_Key = tuple[str, str, str]


def _settings_key(settings: Mapping[str, Any]) -> str:
    # Settings are JSON from the desk's manifest: their canonical text tells two versions apart.
    return json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)


class DeskPlatforms:
    """The adapters one process made, by desk, platform and settings; ``close()`` at exit.

    A desk whose settings changed gets a new adapter; the one made with the old settings is no
    longer handed out and is closed with the others (calls in flight may still finish on it).
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host
        self._adapters: dict[_Key, PlatformAdapter] = {}
        self._retired: list[PlatformAdapter] = []
        self.closed = False

    def adapter(self, tenant: TenantContext, code: str) -> PlatformAdapter:
        """The desk's adapter for platform ``code``, made with ``cls(settings)`` on first use.

        :raises NotFound: no installed plugin registers a platform ``code``.
        :raises ConfigurationError: the desk has not enabled the plugin that registers it.
        """
        if self.closed:
            raise RuntimeError("the desk platforms of this process were closed (shutting down)")
        registry = self._host.component(HOOK)
        entry = next((e for e in registry if e.code == code), None)
        if entry is None:
            known = ", ".join(sorted(e.code for e in registry)) or "none"
            raise NotFound(f"no platform {code!r} is installed (platforms: {known})")
        plugin = entry.plugin
        # Core plugins need no enabling, but every platform comes from a vendor's plugin that
        # the desk configures (server, manager login): a desk must have said which.
        if not tenant.plugin_enabled(plugin):
            raise ConfigurationError(
                f"desk {tenant.slug!r} trades on platform {code!r} but has not enabled its "
                f"plugin {plugin!r}: add [plugins.{json.dumps(plugin)}] to its tenant.toml"
            )
        settings = tenant.settings_for(plugin)
        key = (tenant.slug, code, _settings_key(settings))
        found = self._adapters.get(key)
        if found is not None:
            return found
        for old in [k for k in self._adapters if k[:2] == key[:2]]:
            self._retired.append(self._adapters.pop(old))
        cls = cast(type[PlatformAdapter], entry.item)
        made = self._adapters[key] = cls(settings)
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
                log.exception("platform.close_failed", platform=getattr(adapter, "code", "?"))

    def __len__(self) -> int:
        return len(self._adapters)


_registries: weakref.WeakKeyDictionary[PluginHost, DeskPlatforms] = weakref.WeakKeyDictionary()


def desk_platforms(host: PluginHost) -> DeskPlatforms:
    """The registry of ``host``'s process (made on first use)."""
    registry = _registries.get(host)
    if registry is None or registry.closed:
        registry = _registries[host] = DeskPlatforms(host)
    return registry


def desk_platform(host: PluginHost, tenant: TenantContext, code: str) -> PlatformAdapter:
    """The desk's adapter for platform ``code`` (see ``DeskPlatforms.adapter``)."""
    return desk_platforms(host).adapter(tenant, code)


async def close_desk_platforms(host: PluginHost) -> None:
    """Close the adapters made for ``host``: call once when the process stops."""
    registry = _registries.pop(host, None)
    if registry is not None:
        await registry.close()
