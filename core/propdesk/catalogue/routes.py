"""The desk's challenge catalogue over HTTP: products, versions, drafts, publishing, rulebooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from propdesk.access.permissions import requires
from propdesk.access.principal import Principal
from propdesk.catalogue import service
from propdesk.catalogue.diff import Change
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.problems import Problem
from propdesk.catalogue.rulebook import rulebook_html, rulebook_markdown
from propdesk.errors import NotFound, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep, SessionDep, TenantDep

TAGS = ["catalogue"]
READ = requires("catalogue", "read")
MANAGE = requires("catalogue", "manage")


class ProblemView(msgspec.Struct):
    pointer: str
    message: str


class ProductView(msgspec.Struct):
    code: str
    name: str
    published: int | None
    versions: int
    has_draft: bool
    content_hash: str | None


class VersionView(msgspec.Struct):
    """``version`` is None for the draft; ``content`` only when one version is asked for."""

    product_code: str
    version: int | None
    status: str
    content_hash: str
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None
    retired_at: datetime | None
    retired_by: str | None
    content: dict[str, Any] | None = None


class ProductVersions(msgspec.Struct):
    code: str
    versions: list[VersionView]


class DraftView(msgspec.Struct):
    draft: VersionView
    valid: bool
    problems: list[ProblemView]
    changed: bool


class ValidationView(msgspec.Struct):
    valid: bool
    problems: list[ProblemView]


class PublishView(msgspec.Struct):
    version: VersionView
    changed: bool
    message: str


class ChangeView(msgspec.Struct):
    pointer: str
    change: str
    before: Any
    after: Any


class DiffView(msgspec.Struct):
    code: str
    from_version: int
    to_version: int
    changes: list[ChangeView]


def _caller(principal: Principal | None) -> Principal:
    if principal is None:  # the guard already refused anonymous callers
        raise Unauthenticated("sign in first")
    return principal


def _problems(problems: list[Problem]) -> list[ProblemView]:
    return [ProblemView(p.pointer, p.message) for p in problems]


def _version(row: CatalogueVersion, *, content: bool = False) -> VersionView:
    return VersionView(
        product_code=row.product_code,
        version=row.version,
        status=row.status,
        content_hash=row.content_hash,
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
        published_by=row.published_by,
        retired_at=row.retired_at,
        retired_by=row.retired_by,
        content=row.content if content else None,
    )


def _change(change: Change) -> ChangeView:
    return ChangeView(change["pointer"], change["change"], change["before"], change["after"])


@get("/api/catalogue/products", opt=READ, operation_id="listProducts", tags=TAGS)
async def list_products(session: SessionDep) -> list[ProductView]:
    """Every product of the desk: what is on sale, how many versions, whether a draft waits."""
    return [
        ProductView(p.code, p.name, p.published, p.versions, p.has_draft, p.content_hash)
        for p in await service.list_products(session)
    ]


@get("/api/catalogue/products/{code:str}", opt=READ, operation_id="getProduct", tags=TAGS)
async def get_product(session: SessionDep, code: FromPath[str]) -> ProductVersions:
    """The versions of one product, oldest first, then its draft."""
    rows = await service.list_versions(session, code)
    return ProductVersions(code, [_version(row) for row in rows])


@get(
    "/api/catalogue/products/{code:str}/versions/{version:int}",
    opt=READ,
    operation_id="getProductVersion",
    tags=TAGS,
)
async def get_product_version(
    session: SessionDep, code: FromPath[str], version: FromPath[int]
) -> VersionView:
    """One version with its content."""
    return _version(await service.get_version(session, code, version), content=True)


@get(
    "/api/catalogue/products/{code:str}/draft",
    opt=READ,
    operation_id="getProductDraft",
    tags=TAGS,
)
async def get_product_draft(
    session: SessionDep,
    runtime: RuntimeDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> DraftView:
    """The product's draft with its content and its problems."""
    draft = await service.get_draft(session, code)
    if draft is None:
        raise NotFound(f"product {code!r} has no draft")
    problems = service.validate(draft.content, rule_families(runtime.host, tenant))
    return DraftView(_version(draft, content=True), not problems, _problems(problems), False)


@put(
    "/api/catalogue/products/{code:str}/draft",
    opt=MANAGE,
    operation_id="saveProductDraft",
    tags=TAGS,
)
async def save_product_draft(
    session: SessionDep,
    runtime: RuntimeDep,
    tenant: TenantDep,
    principal: PrincipalDep,
    code: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> DraftView:
    """Create or replace the draft (the body is the product JSON; its ``code`` must be the
    URL's). An invalid draft is kept too: its problems come back, each with its JSON pointer."""
    result = await service.save_draft(
        session, rule_families(runtime.host, tenant), code, data, _caller(principal).actor
    )
    return DraftView(
        _version(result.draft, content=True),
        not result.problems,
        _problems(result.problems),
        result.changed,
    )


@delete(
    "/api/catalogue/products/{code:str}/draft",
    opt=MANAGE,
    operation_id="discardProductDraft",
    tags=TAGS,
)
async def discard_product_draft(
    session: SessionDep, principal: PrincipalDep, code: FromPath[str]
) -> None:
    """Throw the draft away (published versions are not touched)."""
    if not await service.discard_draft(session, code, _caller(principal).actor):
        raise NotFound(f"product {code!r} has no draft")


@post(
    "/api/catalogue/validate",
    opt=READ,
    operation_id="validateProduct",
    status_code=200,
    tags=TAGS,
)
async def validate_product(
    runtime: RuntimeDep, tenant: TenantDep, data: JSONBody[dict[str, Any]]
) -> ValidationView:
    """Every problem of a product (nothing is stored), each with its JSON pointer."""
    problems = service.validate(data, rule_families(runtime.host, tenant))
    return ValidationView(not problems, _problems(problems))


@post(
    "/api/catalogue/products/{code:str}/publish",
    opt=MANAGE,
    operation_id="publishProduct",
    status_code=200,
    tags=TAGS,
)
async def publish_product(
    session: SessionDep,
    runtime: RuntimeDep,
    tenant: TenantDep,
    principal: PrincipalDep,
    code: FromPath[str],
) -> PublishView:
    """Publish the draft as the next version. An invalid draft is refused with every problem
    (422, ``errors[].field`` = JSON pointer); content identical to the newest published
    version publishes nothing (``changed`` false)."""
    result = await service.publish(
        session,
        runtime.queue,
        rule_families(runtime.host, tenant),
        code,
        _caller(principal).actor,
    )
    return PublishView(_version(result.version), result.changed, result.line)


@post(
    "/api/catalogue/products/{code:str}/versions/{version:int}/retire",
    opt=MANAGE,
    operation_id="retireProductVersion",
    status_code=200,
    tags=TAGS,
)
async def retire_product_version(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    code: FromPath[str],
    version: FromPath[int],
) -> PublishView:
    """Take a version off sale; accounts bought under it keep their rules."""
    result = await service.retire(session, runtime.queue, code, version, _caller(principal).actor)
    word = "retired" if result.changed else "already retired"
    return PublishView(_version(result.version), result.changed, f"{code} v{version} {word}")


@get(
    "/api/catalogue/products/{code:str}/diff",
    opt=READ,
    operation_id="diffProductVersions",
    tags=TAGS,
)
async def diff_product_versions(
    session: SessionDep,
    code: FromPath[str],
    from_version: Annotated[int, QueryParameter(name="from", ge=1, description="Older version.")],
    to_version: Annotated[int, QueryParameter(name="to", ge=1, description="Newer version.")],
) -> DiffView:
    """What changed between two versions, by JSON pointer."""
    changes = await service.diff_versions(session, code, from_version, to_version)
    return DiffView(code, from_version, to_version, [_change(c) for c in changes])


@get(
    "/api/catalogue/products/{code:str}/versions/{version:int}/rulebook",
    opt=READ,
    operation_id="getProductRulebook",
    tags=TAGS,
)
async def get_product_rulebook(
    session: SessionDep,
    runtime: RuntimeDep,
    tenant: TenantDep,
    code: FromPath[str],
    version: FromPath[int],
    format: Annotated[
        Literal["markdown", "html"], QueryParameter(description="markdown (default) or html")
    ] = "markdown",
) -> Response[str]:
    """The trader's rulebook of a version, generated from its content."""
    row = await service.get_version(session, code, version)
    families = rule_families(runtime.host, tenant)
    if format == "html":
        return Response(rulebook_html(row.content, families), media_type="text/html")
    return Response(rulebook_markdown(row.content, families), media_type="text/markdown")


ROUTES = [
    list_products,
    get_product,
    get_product_version,
    get_product_draft,
    save_product_draft,
    discard_product_draft,
    validate_product,
    publish_product,
    retire_product_version,
    diff_product_versions,
    get_product_rulebook,
]
