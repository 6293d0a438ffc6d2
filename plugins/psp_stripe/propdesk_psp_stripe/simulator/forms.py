"""Stripe's v1 request encoding (``application/x-www-form-urlencoded`` with bracket nesting:
``line_items[0][price_data][unit_amount]=15500``, ``metadata[k]=v``, ``expand[]=x``) decoded
into nested dicts, and the typed readers that validate parameters the way Stripe words it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from propdesk_psp_stripe.simulator.errors import invalid, missing, unknown

_SUBKEY = re.compile(r"\[([^\[\]]*)\]")


def _split(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    rest = "[" + rest
    parts = _SUBKEY.findall(rest)
    # Anything between or after the brackets (``a[b]c``) is not Stripe's encoding.
    if not head or "".join(f"[{part}]" for part in parts) != rest:
        raise invalid(f"Invalid parameter name: {key}", key)
    return [head, *parts]


def parse_form(raw: bytes | str) -> dict[str, Any]:
    """Nested dicts of strings. Arrays stay dicts keyed ``"0"``, ``"1"``… (``[]`` appends),
    so ``metadata[0]=x`` keeps its key; readers that expect arrays call ``as_list``."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        node, parts = root, _split(key)
        for depth, part in enumerate(parts):
            name = str(len(node)) if part == "" else part
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise invalid(f"Invalid hash: {key} is given as a hash and a value", key)
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash: {key} is given as a hash and a value", key)
            node = child
    return root


def check_known(params: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    known = set(allowed)
    for name in params:
        if name not in known:
            raise unknown(f"{prefix}[{name}]" if prefix else name)


def as_list(value: Any, param: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    if isinstance(value, str) and value == "":
        return []  # Stripe clears an array with an empty string.
    raise invalid(f"Invalid array: {param} must be an array", param)


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value == "":
        return {}
    raise invalid(f"Invalid object: {param} must be a hash", param)


def text(
    params: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    max_length: int = 5000,
    param: str | None = None,
) -> str | None:
    label = param or name
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(label)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {label} must be a string", label)
    if len(value) > max_length:
        raise invalid(
            f"Invalid string: {value[:20]}...; must be at most {max_length} characters", label
        )
    return value


def integer(
    params: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
    param: str | None = None,
) -> int | None:
    label = param or name
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(label)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", label) from None
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", label)
    if maximum is not None and number > maximum:
        raise invalid(f"This value must be less than or equal to {maximum}.", label)
    return number


def boolean(params: dict[str, Any], name: str, param: str | None = None) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", param or name)
    return value == "true"


def choice(
    params: dict[str, Any], name: str, options: Iterable[str], *, required: bool = False
) -> str | None:
    value = text(params, name, required=required)
    allowed = tuple(options)
    if value is not None and value not in allowed:
        listed = ", ".join(f"`{option}`" for option in allowed)
        raise invalid(f"Invalid {name}: must be one of {listed}", name)
    return value


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value is None:
        return {}
    data = as_dict(value, param)
    if len(data) > 50:
        raise invalid("Invalid metadata: metadata can have at most 50 keys", param)
    result: dict[str, str] = {}
    for key, item in data.items():
        if not isinstance(item, str):
            raise invalid(f"Invalid value for {param}[{key}]: must be a string", f"{param}[{key}]")
        if len(key) > 40:
            raise invalid("Metadata keys can have up to 40 characters", f"{param}[{key}]")
        if len(item) > 500:
            raise invalid("Metadata values can have up to 500 characters", f"{param}[{key}]")
        if item != "":  # an empty value unsets the key
            result[key] = item
    return result


def expand_paths(params: dict[str, Any]) -> list[str]:
    return [str(path) for path in as_list(params.get("expand", []), "expand")]
