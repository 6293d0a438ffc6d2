"""A product's draft editor: a form generated from the catalogue's JSON Schema (the core
schema with the rule families' parameter schemas) and the raw JSON, each problem shown next to
its field with its JSON pointer. Saving and checking are the catalogue service's calls.

The editor edits the draft, or the version on sale when there is no draft yet (saving then
makes the draft). The form says which content it was made from (its hash): a save on top of a
draft someone changed meanwhile is refused rather than mixing the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.catalogue import service
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.problems import Problem
from propdesk.catalogue.schema import product_schema
from propdesk.catalogue.service import Families
from propdesk.errors import FieldProblem, NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.web.backoffice.common import Refusal, actor_of, attempt, done
from propdesk.web.backoffice.schemaform import MISSING, SchemaForm, problems_by_pointer
from propdesk.web.pages import form_of, render, see_other

READ = requires("catalogue", "read")
MANAGE = requires("catalogue", "manage")
#: Parts of a product the form leaves to the JSON (add-on effects are rules of their own).
LEFT_TO_JSON = ("code", "addons")
CHECK = "check"


@dataclass(frozen=True)
class Editing:
    """What the editor edits: the draft, or the version on sale when there is none."""

    code: str
    row: CatalogueVersion

    @property
    def is_draft(self) -> bool:
        return self.row.version is None

    @property
    def content(self) -> dict[str, Any]:
        return self.row.content


async def _editing(session: AsyncSession, code: str) -> Editing:
    row = await service.get_draft(session, code) or await service.latest_published(session, code)
    if row is None:
        raise NotFound(f"the catalogue has no product {code!r} on sale or in draft")
    return Editing(code, row)


def _form(families: Families) -> SchemaForm:
    return SchemaForm(product_schema(families), skip=LEFT_TO_JSON)


async def _editor_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    families: Families,
    editing: Editing,
    *,
    shown: Any = MISSING,
    problems: list[Problem] | None = None,
    raw: str | None = None,
    refusal: Refusal | None = None,
    checked: bool = False,
) -> Template:
    """The editor showing ``shown`` (what was posted) or what is being edited, with problems."""
    content = editing.content if shown is MISSING else shown
    if problems is None:
        problems = service.validate(content, families)
    status = refusal.status if refusal else 200
    return await render(
        request,
        session,
        "backoffice/editor.html",
        status=status,
        code=editing.code,
        editing=editing,
        root=_form(families).build(content, problems_by_pointer(problems)),
        problems=service.field_problems(problems),
        raw=raw if raw is not None else json.dumps(content, indent=2, ensure_ascii=False),
        refusal=refusal,
        checked=checked,
    )


@get("/catalogue/{code:str}/draft", opt=READ)
async def editor(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Template:
    """The draft (or the version on sale) in the form and as JSON, with its problems."""
    families = rule_families(runtime.host, tenant)
    return await _editor_page(request, session, families, await _editing(session, code))


def _stale(editing: Editing, form: dict[str, str]) -> Refusal | None:
    if form.get("base") == editing.row.content_hash:
        return None
    return Refusal(
        "the draft changed since this page was opened: your edits were not applied; this is "
        "the draft as it is now",
        status=409,
    )


async def _save_or_check(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    editing: Editing,
    content: Any,
    intent: str,
) -> Response[Any] | Template:
    families = rule_families(runtime.host, tenant)
    if intent == CHECK:
        return await _editor_page(request, session, families, editing, shown=content, checked=True)
    outcome = await attempt(
        session,
        service.save_draft(session, families, editing.code, content, actor_of(request)),
    )
    if isinstance(outcome, Refusal):
        return await _editor_page(
            request, session, families, editing, shown=content, refusal=outcome
        )
    count = len(outcome.problems)
    said = "no problems" if not count else f"{count} problem{'s' if count != 1 else ''} to fix"
    message = f"Draft saved, {said}." if outcome.changed else f"Nothing changed ({said})."
    return see_other(done(f"/backoffice/catalogue/{editing.code}/draft", message), request)


@post("/catalogue/{code:str}/draft", opt=MANAGE)
async def save_form(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Response[Any] | Template:
    """The form's fields onto what it was made from: checked, or saved as the draft."""
    editing = await _editing(session, code)
    posted = await form_of(request)
    families = rule_families(runtime.host, tenant)
    stale = _stale(editing, posted)
    if stale is not None:
        return await _editor_page(request, session, families, editing, refusal=stale)
    form = _form(families)
    content = form.read(form.build(editing.content), editing.content, posted)
    return await _save_or_check(
        request, session, runtime, tenant, editing, content, posted.get("intent", "")
    )


@post("/catalogue/{code:str}/draft/json", opt=MANAGE)
async def save_json(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Response[Any] | Template:
    """The raw JSON: checked, or saved as the draft."""
    editing = await _editing(session, code)
    posted = await form_of(request)
    families = rule_families(runtime.host, tenant)
    raw = posted.get("json", "")
    refusal = _stale(editing, posted)
    try:
        content = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        problem = FieldProblem("json", f"{where}: {exc.msg}")
        refusal = refusal or Refusal(f"this is not JSON ({where}: {exc.msg})", [problem])
    if refusal is not None:
        return await _editor_page(request, session, families, editing, raw=raw, refusal=refusal)
    return await _save_or_check(
        request, session, runtime, tenant, editing, content, posted.get("intent", "")
    )


HANDLERS = [editor, save_form, save_json]
