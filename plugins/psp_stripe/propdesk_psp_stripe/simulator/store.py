"""The objects (stored as the JSON dicts the API answers with), their ids, Stripe's cursor
pagination, list filters and ``expand``."""

from __future__ import annotations

import copy
import operator
import secrets
import string
from collections.abc import Callable
from typing import Any

from propdesk_psp_stripe.simulator.errors import invalid, no_such
from propdesk_psp_stripe.simulator.forms import as_dict, integer, text

Obj = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits

#: The fields each object type can expand, and the object type they hold the id of.
EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {"payment_intent": "payment_intent", "line_items": "list"},
    "payment_intent": {"latest_charge": "charge"},
    "charge": {"payment_intent": "payment_intent"},
    "refund": {"charge": "charge", "payment_intent": "payment_intent"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "transfer": {"destination": "account"},
    "account": {},
    "event": {},
}


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}  # fmt: skip


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


class Store:
    """Every object by type, in creation order, plus the line items of each session."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Obj]] = {}
        self.line_items: dict[str, list[Obj]] = {}

    def add(self, obj: Obj) -> Obj:
        self.objects.setdefault(obj["object"], {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, ident: str) -> Obj | None:
        return self.objects.get(kind, {}).get(ident)

    def require(self, kind: str, ident: str, param: str | None = None) -> Obj:
        obj = self.get(kind, ident)
        if obj is None:
            raise no_such(kind, ident, param)
        return obj

    def newest_first(self, kind: str) -> list[Obj]:
        return list(reversed(self.objects.get(kind, {}).values()))

    def snapshot(self) -> dict[str, list[Obj]]:
        return {kind: copy.deepcopy(list(objs.values())) for kind, objs in self.objects.items()}

    # expand

    def expanded(self, obj: Obj, paths: list[str]) -> Obj:
        """A deep copy of ``obj`` with the ``expand`` paths (``a``, ``a.b``) replaced by the
        objects they name; an unknown path is Stripe's 400."""
        result = copy.deepcopy(obj)
        for index, path in enumerate(paths):
            self._expand(result, path.split("."), path, f"expand[{index}]")
        return result

    def _expand(self, obj: Obj, hops: list[str], path: str, param: str) -> None:
        field, rest = hops[0], hops[1:]
        target = EXPANDABLE.get(obj.get("object", ""), {}).get(field)
        if target is None:
            raise invalid(f"This property cannot be expanded ({path}).", param)
        value = obj.get(field)
        if target == "list":
            items = self.line_items.get(obj["id"], [])
            url = f"/v1/checkout/sessions/{obj['id']}/line_items"
            obj[field] = list_page(copy.deepcopy(items), {"limit": "100"}, url)
            return
        if isinstance(value, str):
            found = self.get(target, value)
            if found is not None:
                obj[field] = value = copy.deepcopy(found)
        if rest and isinstance(value, dict):
            self._expand(value, rest, path, param)


def list_page(items: list[Obj], params: dict[str, Any], url: str) -> Obj:
    """One page of a list (items newest first): ``limit`` 1..100 (default 10),
    ``starting_after`` (older than that id) or ``ending_before`` (newer)."""
    limit = integer(params, "limit", minimum=1, maximum=100) or 10
    after, before = text(params, "starting_after"), text(params, "ending_before")
    ids = [item["id"] for item in items]
    if after is not None and before is not None:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    if after is not None:
        if after not in ids:
            raise invalid(f"No such object: '{after}'", "starting_after", "resource_missing")
        start = ids.index(after) + 1
        page, has_more = items[start : start + limit], len(items) > start + limit
    elif before is not None:
        if before not in ids:
            raise invalid(f"No such object: '{before}'", "ending_before", "resource_missing")
        end = ids.index(before)
        page, has_more = items[max(0, end - limit) : end], end - limit > 0
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def created_filter(params: dict[str, Any]) -> Callable[[Obj], bool]:
    """``created=<unix>`` or ``created[gt|gte|lt|lte]=<unix>``."""
    value = params.get("created")
    if value is None:
        return lambda obj: True
    if isinstance(value, str):
        exact = integer(params, "created")
        return lambda obj: obj["created"] == exact
    bounds = as_dict(value, "created")
    checks: list[tuple[str, int]] = []
    for op in bounds:
        if op not in _COMPARE:
            raise invalid(f"Received unknown parameter: created[{op}]", f"created[{op}]")
        bound = integer(bounds, op, param=f"created[{op}]")
        if bound is not None:
            checks.append((op, bound))

    def within(obj: Obj) -> bool:
        return all(_COMPARE[op](obj["created"], bound) for op, bound in checks)

    return within
