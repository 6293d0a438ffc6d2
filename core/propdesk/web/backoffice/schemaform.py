"""A form generated from a JSON Schema, and the way back from the posted form to JSON. Pure.

``build`` walks the schema with a value and gives a tree of ``Node``: an input per scalar
(strings, whole numbers, enums as selects, booleans), a fieldset per object, repeated fieldsets
for an array of objects (with a blank one to add), and key/value inputs for a map such as a
size's prices. Every input is named by its JSON pointer, so a problem the catalogue reports at
a pointer is shown next to the input it is about. ``read`` turns the posted fields back into
JSON on top of the value the form was built from: what the form does not show is kept.

Conditional parts follow the value: a rule's ``params`` get the fields of the rule family it
names (``allOf``/``if``/``then`` on a constant); alternatives (``oneOf``) show the fields of
every alternative, and the ones left blank are left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from propdesk.catalogue.problems import escape

#: A field left blank: the key is left out of the JSON.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
#: Strings longer than this get a text area.
LONG_TEXT = 1000
SCALARS = frozenset({"text", "textarea", "integer", "select", "boolean", "list"})


@dataclass
class Node:
    """One part of the form. ``pointer`` names its input (scalars) or its fieldset."""

    kind: str
    pointer: str
    key: str | int
    label: str
    hint: str = ""
    value: str = ""
    options: tuple[str, ...] = ()
    required: bool = False
    #: ``(pointer, message)`` of each problem shown here (its own, or a part not shown).
    errors: list[tuple[str, str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    #: A group that may be ``null`` as a whole (left blank: null).
    nullable: bool = False
    #: A group's keys that pick other properties' schemas (``family`` picks ``params``).
    switches: dict[str, set[str]] = field(default_factory=dict)
    #: The blank item of an array, there to add one.
    new: bool = False
    #: Enum values as they are in the schema (not all strings), by their text.
    choices: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return "f" + re.sub(r"[^A-Za-z0-9_]", "-", self.pointer.replace("~", "_"))

    @property
    def scalar(self) -> bool:
        return self.kind in SCALARS

    @property
    def wrong(self) -> bool:
        """Whether a problem is shown here or anywhere inside."""
        return bool(self.errors) or any(child.wrong for child in self.children)

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


#: Labels that say more than the key does.
LABELS = {"params": "Parameters", "id": "Rule id (optional)"}


def label_of(key: str | int) -> str:
    return LABELS.get(str(key), str(key).replace("_", " ").capitalize())


def _singular(label: str) -> str:
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else label


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _hint(schema: Mapping[str, Any]) -> str:
    parts = [str(schema["description"])] if schema.get("description") else []
    if "default" in schema:
        default = schema["default"]
        if isinstance(default, bool):
            default = "yes" if default else "no"
        parts.append(f"Default: {_text(default)}.")
    return " ".join(parts)


class SchemaForm:
    """The form of documents valid against ``schema`` (``$ref`` to ``#/$defs/...`` resolved).

    ``skip`` names top-level properties the form leaves to the raw JSON.
    """

    def __init__(self, schema: Mapping[str, Any], *, skip: Collection[str] = ()) -> None:
        self.schema = schema
        self.skip = frozenset(skip)

    # -- schemas --------------------------------------------------------------------------------
    def _resolve(self, schema: Any) -> dict[str, Any]:
        if not isinstance(schema, Mapping):
            return {}
        found = dict(schema)
        while "$ref" in found:
            ref = str(found.pop("$ref"))
            target = self.schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
            found = {**target, **found}
        return found

    def _branches(self, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self._resolve(b) for b in (*schema.get("oneOf", ()), *schema.get("anyOf", ()))]

    def _is_object(self, schema: Mapping[str, Any]) -> bool:
        if schema.get("type") == "object" or "properties" in schema:
            return True
        branches = [b for b in self._branches(schema) if b.get("type") != "null"]
        return bool(branches) and all(self._is_object(b) for b in branches)

    def _shape(
        self, schema: Mapping[str, Any], value: Any
    ) -> tuple[dict[str, Any], set[str], bool, dict[str, set[str]]]:
        """An object's properties for ``value``: its own, its alternatives', and those of the
        ``if``/``then`` cases ``value`` meets; which are required; whether null is allowed."""
        props = dict(schema.get("properties") or {})
        required = set(schema.get("required") or ())
        nullable = False
        for branch in self._branches(schema):
            if branch.get("type") == "null":
                nullable = True
                continue
            for key, sub in (branch.get("properties") or {}).items():
                props.setdefault(key, sub)
        switches: dict[str, set[str]] = {}
        for case in schema.get("allOf", ()):
            test, then = case.get("if"), case.get("then")
            if not isinstance(test, Mapping) or not isinstance(then, Mapping):
                continue
            consts = {
                k: v["const"]
                for k, v in (test.get("properties") or {}).items()
                if isinstance(v, Mapping) and "const" in v
            }
            if len(consts) != 1:
                continue
            [(key, const)] = consts.items()
            extra = {k: v for k, v in (then.get("properties") or {}).items() if k != key}
            switches.setdefault(key, set()).update(extra)
            if isinstance(value, Mapping) and value.get(key) == const:
                for name, sub in extra.items():
                    if isinstance(sub, Mapping):
                        props[name] = {**self._resolve(props.get(name)), **self._resolve(sub)}
                required |= set(then.get("required") or ())
        return props, required, nullable, switches

    # -- building -------------------------------------------------------------------------------
    def build(self, value: Any, problems: Mapping[str, list[str]] | None = None) -> Node:
        """The form of ``value``, with ``problems`` (messages by JSON pointer) at their inputs;
        a problem at a part the form does not show goes to the nearest part it does."""
        root = self._group(self._resolve(self.schema), value, "", "", "", top=True)
        by_pointer = {node.pointer: node for node in root.walk()}
        for where, messages in (problems or {}).items():
            target = where
            while target not in by_pointer:
                target = target.rpartition("/")[0]
            by_pointer[target].errors.extend((where, message) for message in messages)
        return root

    def _node(
        self, schema: Any, value: Any, pointer: str, key: str | int, label: str, required: bool
    ) -> Node | None:
        s = self._resolve(schema)
        if "const" in s:
            return None
        kind = s.get("type")
        if kind == "array":
            items = self._resolve(s.get("items"))
            if self._is_object(items):
                return self._items(s, items, value, pointer, key, label)
            if "enum" not in items:
                return None
        elif "enum" not in s and kind not in ("boolean", "integer", "number", "string"):
            if not self._is_object(s):
                return None
            if self._shape(s, value)[0]:
                return self._group(s, value, pointer, key, label)
            extra = self._resolve(s.get("additionalProperties"))
            return (
                self._map(s, value, pointer, key, label) if extra.get("type") == "string" else None
            )
        node = Node(
            _scalar_kind(s), pointer, key, label, _hint(s), value=_text(value), required=required
        )
        if node.kind == "select":
            node.choices = {_text(o): o for o in s["enum"]}
            # A value the schema does not allow is shown as it is, so its problem can be read.
            extra_value = [node.value] if node.value and node.value not in node.choices else []
            node.options = (*node.choices, *extra_value)
        elif node.kind == "list":
            allowed = ", ".join(_text(o) for o in self._resolve(s.get("items"))["enum"])
            node.hint = " ".join(filter(None, [node.hint, f"Comma-separated: {allowed}."]))
        return node

    def _group(
        self,
        schema: Mapping[str, Any],
        value: Any,
        pointer: str,
        key: str | int,
        label: str,
        *,
        top: bool = False,
    ) -> Node:
        props, required, nullable, switches = self._shape(schema, value)
        here = value if isinstance(value, Mapping) else {}
        node = Node(
            "group",
            pointer=pointer,
            key=key,
            label=label,
            hint=_hint(schema) if not top else "",
            nullable=nullable,
            switches=switches,
        )
        for name, sub in props.items():
            if top and name in self.skip:
                continue
            child = self._node(
                sub,
                here.get(name),
                f"{pointer}/{escape(name)}",
                name,
                label_of(name),
                name in required,
            )
            if child is not None:
                node.children.append(child)
        return node

    def _items(
        self,
        schema: Mapping[str, Any],
        items: Mapping[str, Any],
        value: Any,
        pointer: str,
        key: str | int,
        label: str,
    ) -> Node:
        node = Node("items", pointer=pointer, key=key, label=label, hint=_hint(schema))
        listed = value if isinstance(value, list) else []
        one = _singular(label)
        for index, item in enumerate([*listed, None]):
            child = self._group(items, item, f"{pointer}/{index}", index, "")
            if item is None:
                child.new, child.label = True, f"Add {_article(one.lower())}"
            else:
                child.label = f"{one} {index + 1}" + _summary(item)
            node.children.append(child)
        return node

    def _map(
        self, schema: Mapping[str, Any], value: Any, pointer: str, key: str | int, label: str
    ) -> Node:
        node = Node("map", pointer=pointer, key=key, label=label, hint=_hint(schema))
        entries = value if isinstance(value, Mapping) else {}
        for name, entry in entries.items():
            node.children.append(
                Node(
                    "text",
                    pointer=f"{pointer}/{escape(name)}",
                    key=name,
                    label=str(name),
                    value=_text(entry),
                )
            )
        return node

    # -- reading --------------------------------------------------------------------------------
    def read(self, node: Node, base: Any, form: Mapping[str, str]) -> Any:
        """The JSON the posted ``form`` makes of ``base`` (the value ``node`` was built from,
        ``MISSING`` where there was none); ``MISSING`` for a part left blank."""
        if node.scalar:
            return _scalar(node, base, form)
        if node.kind == "items":
            return self._read_items(node, base, form)
        if node.kind == "map":
            return _read_map(node, base, form)
        before = base if isinstance(base, Mapping) else {}
        result = dict(before)
        for child in node.children:
            name = str(child.key)
            got = self.read(child, before.get(name, MISSING), form)
            if got is MISSING:
                result.pop(name, None)
            else:
                result[name] = got
        for switch, dependents in node.switches.items():
            if switch in result and result[switch] != before.get(switch):
                # Another family: its parameters start empty (the fields shown were the old one's).
                result.update({name: {} for name in dependents})
        if result:
            return result
        if isinstance(base, Mapping) and not base:
            return {}
        # Everything left blank: null where null is allowed (and it was there), else left out.
        return None if node.nullable and base is not MISSING else MISSING

    def _read_items(self, node: Node, base: Any, form: Mapping[str, str]) -> Any:
        listed = base if isinstance(base, list) else []
        out = []
        for child in node.children:
            if form.get(f"{child.pointer}#remove"):
                continue
            index = int(child.key)
            got = self.read(child, listed[index] if index < len(listed) else MISSING, form)
            if got is MISSING:
                if child.new:
                    continue
                got = {}  # emptied, not removed: it keeps its place and its problems show
            out.append(got)
        return out if out or base is not MISSING else MISSING


def _scalar(node: Node, base: Any, form: Mapping[str, str]) -> Any:
    raw = form.get(node.pointer)
    if raw is None:  # not posted: left as it was
        return base
    text = raw.strip()
    if not text:
        return MISSING
    if node.kind == "integer":
        # Anything else stays text, for validation to say what is wrong and where.
        return int(text) if re.fullmatch(r"-?\d{1,15}", text) else text
    if node.kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if node.kind == "select":
        return node.choices.get(text, text)
    if node.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    # Browsers send a text area's line breaks as CRLF.
    return raw.replace("\r\n", "\n") if node.kind == "textarea" else text


def _read_map(node: Node, base: Any, form: Mapping[str, str]) -> Any:
    before = base if isinstance(base, Mapping) else {}
    result: dict[str, Any] = {}
    for child in node.children:
        raw = form.get(child.pointer)
        text = before.get(str(child.key)) if raw is None else raw.strip()
        if text:
            result[str(child.key)] = text
    key = form.get(f"{node.pointer}#key", "").strip()
    value = form.get(f"{node.pointer}#value", "").strip()
    if key or value:
        result[key] = value
    return result if result or base is not MISSING else MISSING


def _scalar_kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "array":
        return "list"
    if "enum" in schema:
        return "select"
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return "integer"
    return "textarea" if int(schema.get("maxLength", 0)) > LONG_TEXT else "text"


def _summary(item: Any) -> str:
    if not isinstance(item, Mapping):
        return ""
    for name in ("code", "id", "family", "name", "from_payout"):
        if item.get(name) not in (None, ""):
            return f": {item[name]}"
    return ""


def problems_by_pointer(problems: Iterable[Any]) -> dict[str, list[str]]:
    """``{pointer: [message, ...]}`` of problems with ``.pointer`` and ``.message``."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.pointer, []).append(problem.message)
    return found
