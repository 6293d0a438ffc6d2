"""What changed between two versions of a product, by JSON pointer. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from propdesk.catalogue.problems import escape

ChangeKind = Literal["added", "removed", "changed"]


class Change(TypedDict):
    pointer: str
    change: ChangeKind
    before: Any
    after: Any


def diff(a: Any, b: Any) -> list[Change]:
    """Every leaf-most difference from ``a`` to ``b``, in document order.

    Objects are compared key by key and arrays index by index (``/phases/1`` is the second
    phase in both); a value whose JSON type changed is one ``changed`` entry. ``before`` is
    None for ``added`` and ``after`` None for ``removed``.
    """
    changes: list[Change] = []
    _walk(a, b, "", changes)
    return changes


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    return type(value).__name__


def _walk(a: Any, b: Any, where: str, changes: list[Change]) -> None:
    if _kind(a) != _kind(b):
        changes.append(Change(pointer=where, change="changed", before=a, after=b))
    elif isinstance(a, Mapping):
        for key in a:
            here = f"{where}/{escape(key)}"
            if key in b:
                _walk(a[key], b[key], here, changes)
            else:
                changes.append(Change(pointer=here, change="removed", before=a[key], after=None))
        for key in b:
            if key not in a:
                here = f"{where}/{escape(key)}"
                changes.append(Change(pointer=here, change="added", before=None, after=b[key]))
    elif isinstance(a, list):
        for i in range(max(len(a), len(b))):
            here = f"{where}/{i}"
            if i >= len(b):
                changes.append(Change(pointer=here, change="removed", before=a[i], after=None))
            elif i >= len(a):
                changes.append(Change(pointer=here, change="added", before=None, after=b[i]))
            else:
                _walk(a[i], b[i], here, changes)
    elif a != b:
        changes.append(Change(pointer=where, change="changed", before=a, after=b))
