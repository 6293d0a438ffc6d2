"""The notification channels a desk can use, built with that desk's settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from propdesk.plugins.components import NotificationChannel

if TYPE_CHECKING:
    from propdesk.plugins.manager import PluginHost
    from propdesk.tenancy.context import TenantContext

HOOK = "propdesk_register_notification_channels"


def desk_channels(host: PluginHost, tenant: TenantContext) -> dict[str, NotificationChannel]:
    """The desk's channels by code, each built as ``cls(settings)`` from its plugin's settings.

    A channel is the desk's when the desk configured its plugin (``[plugins.<name>]``), or when
    it comes from a core plugin that takes no settings. Core channels that need settings (the
    ``email`` channel needs a server) are left out until the desk configures them. Secrets stay
    references; channels resolve them when they send.

    :raises propdesk.errors.InvalidInput: a configured channel's settings are not valid.
    """
    configurable = host.settings_schemas()
    channels: dict[str, NotificationChannel] = {}
    for entry in host.component(HOOK):
        plugin = entry.plugin
        if tenant.plugin_enabled(plugin) or (plugin in host.core and plugin not in configurable):
            build = cast(Callable[[Mapping[str, Any]], NotificationChannel], entry.item)
            channels[entry.code] = build(tenant.settings_for(plugin))
    return channels
