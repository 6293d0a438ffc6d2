"""Every hook is documented: in its docstring (the contract) and in docs/plugins.md."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from propdesk import hookspecs

DOCS = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
HOOKS = [
    (name, fn)
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "propdesk_spec")
]


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 14


@pytest.mark.parametrize(("name", "fn"), HOOKS, ids=[n for n, _ in HOOKS])
def test_hook_is_documented(name: str, fn: object) -> None:
    assert name.startswith("propdesk_"), "hooks are prefixed propdesk_"
    doc = inspect.getdoc(fn) or ""
    assert doc, f"{name} has no docstring"
    assert "Called" in doc, f"{name}: say when it is called"
    assert "synchronous" in doc or "async" in doc, f"{name}: say whether it may be async"
    signature = inspect.signature(fn)
    for param in signature.parameters:
        assert f":param {param}:" in doc, f"{name}: parameter {param} is undocumented"
    if signature.return_annotation not in ("None", None, inspect.Signature.empty):
        assert ":returns:" in doc, f"{name}: say what it returns"
    assert ".. versionadded::" in doc, f"{name}: say since when it exists"
    heading = f"### `{name}({', '.join(signature.parameters)})`"
    assert heading in DOCS, f"docs/plugins.md lacks the heading {heading}"
