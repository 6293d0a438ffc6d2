"""The desk's plugins and their settings, read-only: settings come from the desk's manifest
(``tenants/<slug>/tenant.toml``, applied with ``propdesk tenants apply``). Secrets are only ever
shown as the environment variable they name."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, get
from litestar.response import Template

from propdesk.access.permissions import requires
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.plugins.manager import PluginInfo
from propdesk.tenancy.secrets import is_secret_ref
from propdesk.web.pages import render

READ = requires("settings", "read")
HIDDEN = "(hidden: not a reference to an environment variable)"


@dataclass(frozen=True)
class Setting:
    name: str
    #: The desk's value as text ("" when it is not set).
    value: str
    kind: str
    description: str
    default: str
    secret: bool


@dataclass(frozen=True)
class DeskPlugin:
    name: str
    info: PluginInfo | None
    settings: list[Setting]


def _is_secret_schema(schema: Mapping[str, Any]) -> bool:
    return "env" in (schema.get("properties") or {}) and schema.get("required") == ["env"]


def shown(value: Any, secret: bool = False) -> str:
    """A setting for people to read: a secret as ``{env: NAME}``, never its value."""
    if is_secret_ref(value):
        return f"{{env: {value['env']}}}"
    if secret:
        return HIDDEN
    if isinstance(value, Mapping):
        return json.dumps({k: _safe(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, list):
        return json.dumps([_safe(v) for v in value], ensure_ascii=False)
    return value if isinstance(value, str) else json.dumps(value)


def _safe(value: Any) -> Any:
    """Nested secrets inside a larger value stay references too."""
    if is_secret_ref(value):
        return f"{{env: {value['env']}}}"
    if isinstance(value, Mapping):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


def settings_of(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> list[Setting]:
    """Every setting the plugin's schema describes (and any other the desk gave), with the
    desk's value."""
    properties: Mapping[str, Any] = (schema or {}).get("properties") or {}
    found = []
    for name in [*properties, *(k for k in values if k not in properties)]:
        spec = properties.get(name) or {}
        secret = _is_secret_schema(spec)
        kind = "secret" if secret else str(spec.get("type") or ("choice" if "enum" in spec else ""))
        found.append(
            Setting(
                name=name,
                value=shown(values[name], secret) if name in values else "",
                kind=kind,
                description=str(spec.get("description") or ""),
                default=shown(spec["default"]) if "default" in spec else "",
                secret=secret,
            )
        )
    return found


@get("/plugins", opt=READ)
async def plugins(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Template:
    """The desk's enabled plugins with their settings, and what else could be enabled."""
    infos = {info.name: info for info in runtime.host.plugins_info()}
    schemas = runtime.host.settings_schemas()
    enabled = [
        DeskPlugin(name, infos.get(name), settings_of(schemas.get(name), values))
        for name, values in sorted(tenant.plugins.items())
    ]
    available = [
        DeskPlugin(name, infos.get(name), settings_of(schemas.get(name), {}))
        for name in sorted(runtime.host.tenant_plugins())
        if name not in tenant.plugins
    ]
    return await render(
        request, session, "backoffice/plugins.html", enabled=enabled, available=available
    )


HANDLERS = [plugins]
