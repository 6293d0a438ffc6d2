"""A desk's catalogue: drafts, validated publishing, retiring, reading and comparing versions.

Every function takes a session bound to the desk (``runtime.db.session(tenant)`` or the
request's unit of work) and works inside its transaction: the caller commits. State changes
append to the desk's audit chain and emit an outbox event in that same transaction, so a
failed request leaves nothing behind. Publishing takes a per-product advisory lock, so two
publishers never hand out the same version number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import record
from propdesk.catalogue.diff import Change, diff
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.models import DRAFT, PUBLISHED, RETIRED, CatalogueVersion
from propdesk.catalogue.problems import Problem, sort_problems
from propdesk.catalogue.product import content_hash
from propdesk.catalogue.schema import PRODUCT_CODE_PATTERN
from propdesk.catalogue.validation import validate_product
from propdesk.errors import FieldProblem, InvalidInput, NotFound
from propdesk.outbox.service import emit, session_tenant
from propdesk.rules.family import RuleFamily
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.worker.queue import JobQueue

Families = Mapping[str, type[RuleFamily]]

#: Where a desk's product files live next to its manifest: ``tenants/<slug>/challenges/``.
CHALLENGES_FOLDER = "challenges"


def field_problems(problems: Sequence[Problem], prefix: str = "") -> list[FieldProblem]:
    """Product problems as the error hierarchy's field problems (field = JSON pointer)."""
    return [FieldProblem(prefix + p.pointer, p.message) for p in problems]


def validate(content: Any, families: Families) -> list[Problem]:
    """Every problem of ``content`` (see ``schema.validate_product``)."""
    return validate_product(content, families)


def _target(code: str) -> str:
    return f"product:{code}"


def _now() -> datetime:
    return datetime.now(UTC)


async def _lock(session: AsyncSession, code: str) -> None:
    key = f"catalogue:{session_tenant(session)}:{code}"
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _check_code(code: str) -> None:
    if not re.fullmatch(PRODUCT_CODE_PATTERN, code):
        raise InvalidInput(
            f"{code!r} is not a product code",
            problems=[
                FieldProblem(
                    "/code", "must be 2-40 lowercase letters, digits or hyphens, e.g. two-step"
                )
            ],
        )


# -- reading ------------------------------------------------------------------------------------


async def get_draft(session: AsyncSession, code: str) -> CatalogueVersion | None:
    return await session.scalar(
        select(CatalogueVersion).where(
            CatalogueVersion.product_code == code, CatalogueVersion.status == DRAFT
        )
    )


async def get_version(session: AsyncSession, code: str, version: int) -> CatalogueVersion:
    """Published or retired version ``version`` of product ``code``; NotFound names what is."""
    row = await session.scalar(
        select(CatalogueVersion).where(
            CatalogueVersion.product_code == code, CatalogueVersion.version == version
        )
    )
    if row is None:
        versions = await _numbers(session, code)
        if not versions:
            raise NotFound(f"the catalogue has no product {code!r}")
        shown = ", ".join(f"v{n}" for n in versions)
        raise NotFound(f"product {code!r} has no version {version} (versions: {shown})")
    return row


async def _numbers(session: AsyncSession, code: str) -> list[int]:
    rows = await session.scalars(
        select(CatalogueVersion.version)
        .where(CatalogueVersion.product_code == code, CatalogueVersion.version.is_not(None))
        .order_by(CatalogueVersion.version)
    )
    return [n for n in rows if n is not None]


async def latest_published(session: AsyncSession, code: str) -> CatalogueVersion | None:
    """The newest version of ``code`` on sale (status published), or None."""
    return await session.scalar(
        select(CatalogueVersion)
        .where(CatalogueVersion.product_code == code, CatalogueVersion.status == PUBLISHED)
        .order_by(CatalogueVersion.version.desc())
        .limit(1)
    )


async def on_sale(session: AsyncSession) -> list[CatalogueVersion]:
    """What traders can buy: the newest published version of each product, by product code."""
    rows = await session.scalars(
        select(CatalogueVersion)
        .where(CatalogueVersion.status == PUBLISHED)
        .order_by(CatalogueVersion.product_code, CatalogueVersion.version.desc())
        .distinct(CatalogueVersion.product_code)
    )
    return list(rows)


async def by_hash(session: AsyncSession, version_hash: str) -> CatalogueVersion:
    """The version with ``version_hash`` (what a challenge is pinned to)."""
    row = await session.scalar(
        select(CatalogueVersion)
        .where(CatalogueVersion.content_hash == version_hash)
        .order_by(CatalogueVersion.version.asc().nulls_last())
        .limit(1)
    )
    if row is None:
        raise NotFound(f"no product version {version_hash} in the catalogue")
    return row


async def list_versions(session: AsyncSession, code: str) -> list[CatalogueVersion]:
    """Every version of ``code``, oldest first, then its draft (if any)."""
    rows = list(
        await session.scalars(
            select(CatalogueVersion)
            .where(CatalogueVersion.product_code == code)
            .order_by(CatalogueVersion.version.asc().nulls_last())
        )
    )
    if not rows:
        raise NotFound(f"the catalogue has no product {code!r}")
    return rows


@dataclass(frozen=True)
class ProductSummary:
    code: str
    name: str
    #: Newest published version (None when nothing of it is on sale).
    published: int | None
    versions: int
    has_draft: bool
    content_hash: str | None


async def list_products(session: AsyncSession) -> list[ProductSummary]:
    """One line per product: its name (from the newest version), what is on sale, a draft."""
    rows = (
        await session.execute(
            select(
                CatalogueVersion.product_code,
                CatalogueVersion.version,
                CatalogueVersion.status,
                CatalogueVersion.content_hash,
                CatalogueVersion.content["name"].astext,
            ).order_by(CatalogueVersion.product_code, CatalogueVersion.version.asc().nulls_last())
        )
    ).all()
    found: dict[str, dict[str, Any]] = {}
    for code, version, status, digest, name in rows:
        entry = found.setdefault(
            code, {"name": name, "published": None, "versions": 0, "draft": False, "hash": None}
        )
        entry["name"] = name or entry["name"]
        if status == DRAFT:
            entry["draft"] = True
            continue
        entry["versions"] += 1
        if status == PUBLISHED:
            entry["published"], entry["hash"] = version, digest
    return [
        ProductSummary(
            code, e["name"] or code, e["published"], e["versions"], e["draft"], e["hash"]
        )
        for code, e in found.items()
    ]


async def diff_versions(session: AsyncSession, code: str, before: int, after: int) -> list[Change]:
    """What changed from version ``before`` to version ``after`` of ``code``."""
    a = await get_version(session, code, before)
    b = await get_version(session, code, after)
    return diff(a.content, b.content)


# -- drafts -------------------------------------------------------------------------------------


@dataclass
class DraftResult:
    draft: CatalogueVersion
    problems: list[Problem]
    created: bool
    changed: bool


async def save_draft(
    session: AsyncSession,
    families: Families,
    code: str,
    content: Any,
    actor: str,
) -> DraftResult:
    """Create or replace the draft of product ``code``. An invalid draft is stored too (work in
    progress); its problems come back with it. ``content["code"]`` must be ``code``."""
    _check_code(code)
    if not isinstance(content, dict):
        raise InvalidInput(
            "a product is a JSON object", problems=[FieldProblem("", "must be a JSON object")]
        )
    if content.get("code") != code:
        raise InvalidInput(
            f"the product's code is not {code!r}",
            problems=[FieldProblem("/code", f"is {content.get('code')!r} but must be {code!r}")],
        )
    problems = validate(content, families)
    digest = content_hash(content)
    await _lock(session, code)
    draft = await get_draft(session, code)
    created = draft is None
    before = None if draft is None else {"content_hash": draft.content_hash}
    if draft is None:
        draft = CatalogueVersion(
            product_code=code,
            version=None,
            status=DRAFT,
            content=content,
            content_hash=digest,
            created_by=actor,
        )
        session.add(draft)
    elif draft.content_hash == digest:
        return DraftResult(draft, problems, created=False, changed=False)
    else:
        draft.content, draft.content_hash = content, digest
        draft.created_by, draft.created_at = actor, _now()
    await session.flush()
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="catalogue.draft_saved",
        target=_target(code),
        before=before,
        after={"content_hash": digest, "problems": len(problems)},
    )
    return DraftResult(draft, problems, created=created, changed=True)


async def discard_draft(session: AsyncSession, code: str, actor: str) -> bool:
    """Delete the draft of ``code``; False when there was none."""
    await _lock(session, code)
    draft = await get_draft(session, code)
    if draft is None:
        return False
    await session.delete(draft)
    await session.flush()
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="catalogue.draft_discarded",
        target=_target(code),
        before={"content_hash": draft.content_hash},
    )
    return True


# -- publishing ---------------------------------------------------------------------------------


@dataclass
class PublishResult:
    """``changed`` is False when the content was already the newest published version."""

    version: CatalogueVersion
    changed: bool

    @property
    def line(self) -> str:
        v = self.version
        if self.changed:
            return f"published {v.product_code} v{v.version} ({v.content_hash})"
        return f"{v.product_code} unchanged (v{v.version})"


def _invalid(code: str, problems: Sequence[Problem], prefix: str = "") -> InvalidInput:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return InvalidInput(
        f"product {code!r} has {count}: nothing was published",
        problems=field_problems(problems, prefix),
    )


async def publish_content(
    session: AsyncSession,
    queue: JobQueue,
    families: Families,
    content: Any,
    actor: str,
    *,
    draft: CatalogueVersion | None = None,
) -> PublishResult:
    """Publish ``content`` as the next version of its product, unless it is already the
    newest published version (then nothing is written). Raises ``InvalidInput`` listing every
    problem (field = JSON pointer) and writes nothing when the content is invalid."""
    problems = validate(content, families)
    code = content.get("code") if isinstance(content, dict) else None
    if problems or not isinstance(code, str):
        raise _invalid(str(code), problems)
    digest = content_hash(content)
    await _lock(session, code)
    latest = await latest_published(session, code)
    if latest is not None and latest.content_hash == digest:
        return PublishResult(latest, changed=False)
    number = (
        await session.scalar(
            select(func.coalesce(func.max(CatalogueVersion.version), 0)).where(
                CatalogueVersion.product_code == code
            )
        )
        or 0
    ) + 1
    now = _now()
    if draft is not None and draft.content_hash == digest:
        row = draft
        row.status, row.version = PUBLISHED, number
        row.published_at, row.published_by = now, actor
    else:
        row = CatalogueVersion(
            product_code=code,
            version=number,
            status=PUBLISHED,
            content=content,
            content_hash=digest,
            created_by=actor,
            published_at=now,
            published_by=actor,
        )
        session.add(row)
    await session.flush()
    after = {"version": number, "content_hash": digest}
    before = (
        None if latest is None else {"version": latest.version, "content_hash": latest.content_hash}
    )
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="catalogue.published",
        target=_target(code),
        before=before,
        after=after,
    )
    emit(session, queue, "catalogue.published", {"product": code, **after})
    return PublishResult(row, changed=True)


async def publish(
    session: AsyncSession, queue: JobQueue, families: Families, code: str, actor: str
) -> PublishResult:
    """Publish the draft of ``code`` (see ``publish_content``)."""
    await _lock(session, code)
    draft = await get_draft(session, code)
    if draft is None:
        raise NotFound(f"product {code!r} has no draft to publish: save one first")
    return await publish_content(session, queue, families, draft.content, actor, draft=draft)


@dataclass
class RetireResult:
    version: CatalogueVersion
    changed: bool


async def retire(
    session: AsyncSession, queue: JobQueue, code: str, version: int, actor: str
) -> RetireResult:
    """Take version ``version`` of ``code`` off sale. Accounts bought under it keep it."""
    await _lock(session, code)
    row = await get_version(session, code, version)
    if row.status == RETIRED:
        return RetireResult(row, changed=False)
    row.status, row.retired_at, row.retired_by = RETIRED, _now(), actor
    await session.flush()
    after = {"version": version, "content_hash": row.content_hash, "status": RETIRED}
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="catalogue.retired",
        target=_target(code),
        before={"version": version, "status": PUBLISHED},
        after=after,
    )
    emit(session, queue, "catalogue.retired", {"product": code, **after})
    return RetireResult(row, changed=True)


# -- files (CLI, manifests) ---------------------------------------------------------------------


@dataclass
class ProductFile:
    path: Path
    content: Any = None
    problems: list[Problem] = field(default_factory=list)


def read_product(path: Path, families: Families) -> ProductFile:
    """Load and validate one product file; unreadable JSON is a problem at ``""``."""
    found = ProductFile(path)
    try:
        found.content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        found.problems = [Problem("", f"cannot read the file: {exc.strerror or exc}")]
        return found
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        found.problems = [Problem("", f"not valid JSON ({where}): {exc.msg}")]
        return found
    found.problems = validate(found.content, families)
    return found


def check_files(paths: Sequence[Path], families: Families) -> list[ProductFile]:
    """Read and validate every file; also a product code used by two files is a problem."""
    files = [read_product(path, families) for path in paths]
    seen: dict[str, Path] = {}
    for f in files:
        code = f.content.get("code") if isinstance(f.content, dict) else None
        if not isinstance(code, str):
            continue
        if code in seen:
            f.problems.append(Problem("/code", f"product {code!r} is also in {seen[code]}"))
            f.problems = sort_problems(f.problems)
        seen[code] = f.path
    return files


def file_problems(files: Sequence[ProductFile]) -> list[FieldProblem]:
    """Every problem of every file, as ``FILE#/pointer`` fields."""
    return [FieldProblem(f"{f.path}#{p.pointer}", p.message) for f in files for p in f.problems]


async def publish_files(
    runtime: Runtime, tenant: TenantContext, paths: Sequence[Path], actor: str
) -> list[PublishResult]:
    """Validate every file, then publish them all in one transaction; nothing is published
    when any file has a problem (raised as ``InvalidInput`` with ``FILE#/pointer`` fields)."""
    families = rule_families(runtime.host, tenant)
    files = check_files(paths, families)
    problems = file_problems(files)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise InvalidInput(
            f"{count} in the product files: nothing was published", problems=problems
        )
    results = []
    async with runtime.db.unit_of_work(tenant) as session:
        for f in files:
            results.append(
                await publish_content(session, runtime.queue, families, f.content, actor)
            )
    return results


def folder_files(folder: Path) -> list[Path]:
    """The product files of a desk folder (``<folder>/challenges/*.json``), sorted."""
    challenges = folder / CHALLENGES_FOLDER
    return sorted(challenges.glob("*.json")) if challenges.is_dir() else []


async def apply_folder(
    runtime: Runtime, tenant: TenantContext, folder: Path, actor: str
) -> list[str]:
    """Publish the desk folder's product files (``tenants/<slug>/challenges/*.json``); one line
    per product that changed. Idempotent: unchanged products write nothing."""
    paths = folder_files(folder)
    if not paths:
        return []
    results = await publish_files(runtime, tenant, paths, actor)
    return [r.line for r in results if r.changed]


@dataclass(frozen=True)
class DraftReview:
    """What publishing the draft would change: against the newest published version (None for
    a product never published), and the draft's problems (it publishes only without any)."""

    draft: CatalogueVersion
    latest: CatalogueVersion | None
    changes: list[Change]
    problems: list[Problem]


async def review_draft(session: AsyncSession, families: Families, code: str) -> DraftReview:
    """The draft of ``code`` next to what is on sale now, before it is published."""
    draft = await get_draft(session, code)
    if draft is None:
        raise NotFound(f"product {code!r} has no draft to publish: save one first")
    latest = await latest_published(session, code)
    changes = diff(latest.content if latest is not None else {}, draft.content)
    return DraftReview(draft, latest, changes, validate(draft.content, families))
