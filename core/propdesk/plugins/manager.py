"""The plugin manager, and ``PluginHost``: the one typed facade the core calls hooks through.

No module-level manager: the web app, the worker and the CLI each build one at startup with
``PluginHost.load(settings)``, which fails fast on unknown hooks, duplicate codes and invalid
settings schemas.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pluggy
from jsonschema import Draft202012Validator, SchemaError

from propdesk import hookspecs
from propdesk.errors import ConfigurationError
from propdesk.plugins.components import KINDS, Component
from propdesk.plugins.markers import ENTRY_POINT_GROUP, PROJECT
from propdesk.plugins.registry import Registered, Registry
from propdesk.utils import await_me_maybe

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

    from propdesk.access.permissions import Permission
    from propdesk.db.migrate import MigrationLocation
    from propdesk.outbox.events import DomainEvent
    from propdesk.runtime import Runtime
    from propdesk.settings import Settings
    from propdesk.simulators import Simulator
    from propdesk.tenancy.context import TenantContext
    from propdesk.worker.jobs import JobDefinition

log = logging.getLogger(__name__)

#: Core defaults, registered as plugins (the core uses its own contract); always enabled.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("propdesk.access", "propdesk.access.plugin"),
    ("propdesk.rules", "propdesk.rules.plugin"),
    ("propdesk.catalogue", "propdesk.catalogue.plugin"),
    ("propdesk.calendar", "propdesk.rules.calendar_plugin"),
    ("propdesk.email", "propdesk.notifications.plugin"),
    ("propdesk.lifecycle", "propdesk.lifecycle.plugin"),
    ("propdesk.ledger", "propdesk.ledger.plugin"),
    ("propdesk.idempotency", "propdesk.idempotency.plugin"),
    ("propdesk.orders", "propdesk.orders.plugin"),
    ("propdesk.payouts", "propdesk.payouts.plugin"),
    ("propdesk.risk", "propdesk.risk.plugin"),
    ("propdesk.engine", "propdesk.engine.plugin"),
    ("propdesk.actions", "propdesk.engine.actions"),
)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    core: bool


def _check_marked(name: str, plugin: object) -> None:
    """A ``propdesk_*`` function without ``@hookimpl`` would be silently ignored: refuse it."""
    marker = f"{PROJECT}_impl"
    for attr, value in inspect.getmembers(plugin, callable):
        if attr.startswith("propdesk_") and not hasattr(value, marker):
            raise ConfigurationError(
                f"plugin {name!r}: {attr} looks like a hook implementation but is not "
                "decorated with @propdesk.hookimpl"
            )


class PluginHost:
    """Typed access to every hook. The only code that touches ``pluggy`` directly."""

    def __init__(self, pm: pluggy.PluginManager, core: Iterable[str]) -> None:
        self.pm = pm
        self.core = frozenset(core)
        self._validate()

    @classmethod
    def load(cls, settings: Settings, extra: Sequence[tuple[str, object]] = ()) -> PluginHost:
        """Build the manager: core defaults, then entry points (minus blocked), then ``extra``."""
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(hookspecs)
        core = []
        for name, module in DEFAULT_PLUGINS:
            pm.register(importlib.import_module(module), name=name)
            core.append(name)
        for name in settings.disabled_plugins:
            pm.set_blocked(name)
        if settings.load_entrypoints:
            try:
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            except pluggy.PluginValidationError as exc:
                raise ConfigurationError(f"plugin {exc.plugin!r}: {exc}") from exc
            except Exception as exc:
                raise ConfigurationError(f"a plugin failed to load: {exc!r}") from exc
        for name, plugin in extra:
            if not pm.is_blocked(name):
                pm.register(plugin, name=name)
        if settings.trace_plugins:
            pm.trace.root.setwriter(lambda text: log.info("hook %s", text.rstrip()))
            pm.enable_tracing()
        return cls(pm, core)

    # -- validation ---------------------------------------------------------------------------

    def _validate(self) -> None:
        for name, plugin in self.pm.list_name_plugin():
            if plugin is not None:
                _check_marked(name, plugin)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise ConfigurationError(f"plugin {exc.plugin!r}: {exc}") from exc
        self.registries = {hook: self._components(hook) for hook in KINDS}
        self.permissions()
        self._settings_schemas: dict[str, dict[str, Any]] | None = None
        self._settings_schemas = self.settings_schemas()
        self.jobs()

    # -- calling ------------------------------------------------------------------------------

    def plugin_names(self) -> list[str]:
        return [name for name, plugin in self.pm.list_name_plugin() if plugin is not None]

    def tenant_plugins(self) -> list[str]:
        """Plugins a desk can enable and configure: every plugin but the core defaults, and the
        core defaults that take per-desk settings (e.g. the static economic calendar)."""
        configurable = self.settings_schemas()
        return [n for n in self.plugin_names() if n not in self.core or n in configurable]

    def _per_plugin(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` plugin by plugin, keeping who returned what (registration order)."""
        caller = getattr(self.pm.hook, hook)
        results = []
        for impl in caller.get_hookimpls():
            others = [p for p in self.pm.get_plugins() if p is not impl.plugin]
            single = self.pm.subset_hook_caller(hook, remove_plugins=others)
            for result in single(**kwargs):
                results.append((impl.plugin_name, result))
        return results

    def _components(self, hook: str) -> Registry[type[Component]]:
        kind = KINDS[hook].__name__
        entries = []
        for plugin, classes in self._per_plugin(hook):
            for cls in classes or ():
                for attr in ("code", "display_name", "settings_schema"):
                    if not hasattr(cls, attr):
                        raise ConfigurationError(
                            f"plugin {plugin!r}: {kind} {cls!r} has no {attr!r} attribute"
                        )
                _check_schema(
                    f"plugin {plugin!r}: {kind} {cls.code!r} settings_schema", cls.settings_schema
                )
                entries.append(Registered(cls.code, cls, plugin))
        return Registry(kind, entries, self.core)

    def component(self, hook: str) -> Registry[type[Component]]:
        return self.registries[hook]

    def permissions(self) -> dict[tuple[str, str], Permission]:
        found: dict[tuple[str, str], tuple[str, Permission]] = {}
        for plugin, permissions in self._per_plugin("propdesk_register_permissions"):
            for permission in permissions or ():
                if permission.key in found:
                    raise ConfigurationError(
                        f"permission {':'.join(permission.key)!r} declared by plugin "
                        f"{found[permission.key][0]!r} and again by plugin {plugin!r}"
                    )
                found[permission.key] = (plugin, permission)
        return {key: permission for key, (_, permission) in found.items()}

    def settings_schemas(self) -> dict[str, dict[str, Any]]:
        """Each plugin's settings schema, checked once (the plugins are fixed at load)."""
        if self._settings_schemas is not None:
            return dict(self._settings_schemas)
        schemas: dict[str, dict[str, Any]] = {}
        for plugin, schema in self._per_plugin("propdesk_register_settings_schema"):
            if plugin in schemas:
                raise ConfigurationError(f"plugin {plugin!r} declares two settings schemas")
            _check_schema(f"plugin {plugin!r}: settings schema", schema)
            schemas[plugin] = schema
        return schemas

    def routes(self) -> list[tuple[str, list[ControllerRouterHandler]]]:
        return [(p, list(r or ())) for p, r in self._per_plugin("propdesk_register_routes")]

    def jobs(self) -> list[JobDefinition]:
        jobs: dict[str, JobDefinition] = {}
        for plugin, definitions in self._per_plugin("propdesk_register_jobs"):
            for job in definitions or ():
                if job.name in jobs:
                    raise ConfigurationError(f"duplicate job name {job.name!r} (plugin {plugin!r})")
                jobs[job.name] = job
        return list(jobs.values())

    def migrations(self) -> list[MigrationLocation]:
        return [loc for _, locs in self._per_plugin("propdesk_register_migrations") for loc in locs]

    def simulators(self) -> Registry[type[Simulator]]:
        """The registered simulators by code. Asked for by the commands that run them, not at
        load: the hook imports each simulator, which the web app and the worker never need."""
        entries = []
        for plugin, classes in self._per_plugin("propdesk_register_simulators"):
            for cls in classes or ():
                for attr in ("code", "display_name", "plugin"):
                    if not isinstance(getattr(cls, attr, None), str):
                        raise ConfigurationError(
                            f"plugin {plugin!r}: simulator {cls!r} has no {attr!r} string"
                        )
                entries.append(Registered(cls.code, cls, plugin))
        return Registry("simulator", entries, self.core)

    def add_cli_commands(self, cli: click.Group) -> None:
        self.pm.hook.propdesk_register_cli_commands(cli=cli)

    def event_subscribers(self, tenant: TenantContext) -> list[str]:
        """Plugins that react to ``tenant``'s events: the core's and the tenant's enabled ones."""
        names = {impl.plugin_name for impl in self.pm.hook.propdesk_on_event.get_hookimpls()}
        return sorted(n for n in names if n in self.core or tenant.plugin_enabled(n))

    async def deliver_event(
        self, plugin: str, tenant: TenantContext, event: DomainEvent, runtime: Runtime
    ) -> None:
        """Call ``plugin``'s ``propdesk_on_event`` (awaiting it if it is async)."""
        target = self.pm.get_plugin(plugin)
        others = [p for p in self.pm.get_plugins() if p is not target]
        single = self.pm.subset_hook_caller("propdesk_on_event", remove_plugins=others)
        for result in single(tenant=tenant, event=event, runtime=runtime):
            await await_me_maybe(result)

    # -- introspection ------------------------------------------------------------------------

    def plugins_info(self) -> list[PluginInfo]:
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = dists.get(id(plugin))
            hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()))
            if dist is not None:
                dist_name, version = dist.metadata["Name"], dist.version
            else:
                dist_name, version = _module_distribution(plugin)
            infos.append(PluginInfo(name, dist_name, version, hooks, name in self.core))
        return infos


def _check_schema(where: str, schema: Any) -> None:
    if not isinstance(schema, dict):
        raise ConfigurationError(
            f"{where} must be a JSON Schema object, got {type(schema).__name__}"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.path)
        raise ConfigurationError(
            f"{where} is not a valid JSON Schema at {pointer}: {exc.message}"
        ) from None


def _module_distribution(plugin: object) -> tuple[str, str]:
    from propdesk import __version__

    module = cast(ModuleType, plugin)
    name = getattr(module, "__name__", "")
    if name.startswith("propdesk."):
        return "propdesk", __version__
    return "(not installed)", "-"
