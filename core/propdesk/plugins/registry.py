"""Registries merge what registration hooks return, keyed by code; duplicates are fatal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from propdesk.errors import ConfigurationError, NotFound
from propdesk.tenancy.context import TenantContext

T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    code: str
    item: T
    plugin: str


class Registry(Generic[T]):
    """Items of one kind from all plugins. ``core`` names plugins every tenant may use."""

    def __init__(self, kind: str, entries: Iterable[Registered[T]], core: frozenset[str]) -> None:
        self.kind = kind
        self._core = core
        self._items: dict[str, Registered[T]] = {}
        for entry in entries:
            if entry.code in self._items:
                first = self._items[entry.code].plugin
                raise ConfigurationError(
                    f"duplicate {kind} code {entry.code!r}: registered by plugin {first!r} "
                    f"and by plugin {entry.plugin!r}"
                )
            self._items[entry.code] = entry

    def __iter__(self) -> Iterator[Registered[T]]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def get(self, code: str) -> T:
        try:
            return self._items[code].item
        except KeyError:
            raise NotFound(f"no {self.kind} with code {code!r}") from None

    def for_tenant(self, tenant: TenantContext) -> dict[str, T]:
        """The items a tenant may use: the core's and those of plugins it enabled."""
        return {
            code: entry.item
            for code, entry in self._items.items()
            if entry.plugin in self._core or tenant.plugin_enabled(entry.plugin)
        }
