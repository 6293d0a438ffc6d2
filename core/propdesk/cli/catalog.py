"""``propdesk catalog``: validate, publish, compare, show, list and retire challenge products."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from propdesk.catalogue import service
from propdesk.catalogue.diff import Change, diff
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.product import content_hash
from propdesk.catalogue.rulebook import rulebook_html, rulebook_markdown
from propdesk.cli.common import cli_actor, console, run
from propdesk.errors import InvalidInput, NotFound
from propdesk.plugins.manager import PluginHost
from propdesk.runtime import Runtime
from propdesk.settings import get_settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenant

FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
TENANT = click.option("--tenant", "slug", required=True, metavar="SLUG", help="The desk.")
_REF = re.compile(r"^(?P<code>[a-z0-9][a-z0-9-]{1,39})@v?(?P<version>\d+)$")


async def _tenant(runtime: Runtime, slug: str) -> TenantContext:
    async with runtime.db.session() as session:
        tenant = await load_tenant(session, slug)
    if tenant is None:
        raise NotFound(f"no desk with slug {slug!r}: see `propdesk tenants list`")
    return tenant


def _fail(problems: list[str]) -> None:
    for line in problems:
        click.echo(line, err=True)
    sys.exit(1)


@click.group()
def catalog() -> None:
    """A desk's challenge products: JSON validated against the rule families' schemas."""


@catalog.command()
@FILES
def validate(files: tuple[Path, ...]) -> None:
    """Check product files (no database needed); prints every problem as FILE#/pointer."""
    families = rule_families(PluginHost.load(get_settings()))
    checked = service.check_files(files, families)
    problems = [f"{p.field}: {p.message}" for p in service.file_problems(checked)]
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        _fail([*problems, f"{count} in {len(files)} file{'s' if len(files) != 1 else ''}"])
    for f in checked:
        click.echo(f"{f.path}: valid {f.content['code']} ({content_hash(f.content)})")


@catalog.command()
@TENANT
@FILES
def publish(slug: str, files: tuple[Path, ...]) -> None:
    """Publish product files to a desk: all of them, or none when any file has a problem."""

    async def action(runtime: Runtime) -> list[service.PublishResult]:
        tenant = await _tenant(runtime, slug)
        return await service.publish_files(runtime, tenant, files, cli_actor())

    try:
        results = run(action)
    except InvalidInput as exc:
        _fail([f"{p.field}: {p.message}" for p in exc.problems] + [exc.detail])
    for result in results:
        click.echo(result.line)


def _load(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None


def _ref(value: str) -> tuple[str, int]:
    match = _REF.match(value)
    if match is None:
        raise click.BadParameter(f"{value!r}: write CODE@vN, e.g. two-step@v2")
    return match["code"], int(match["version"])


def _print_changes(changes: list[Change]) -> None:
    if not changes:
        click.echo("No differences.")
    for change in changes:
        before = json.dumps(change["before"], ensure_ascii=False, sort_keys=True)
        after = json.dumps(change["after"], ensure_ascii=False, sort_keys=True)
        if change["change"] == "added":
            click.echo(f"+ {change['pointer']}: {after}")
        elif change["change"] == "removed":
            click.echo(f"- {change['pointer']}: {before}")
        else:
            click.echo(f"~ {change['pointer']}: {before} -> {after}")


@catalog.command(name="diff")
@click.option("--tenant", "slug", metavar="SLUG", help="Compare published versions of a desk.")
@click.argument("a")
@click.argument("b")
def diff_(slug: str | None, a: str, b: str) -> None:
    """What changed from A to B: two files, or with --tenant two versions (CODE@v1 CODE@v2)."""
    if slug is None:
        _print_changes(diff(_load(a), _load(b)))
        return
    (code_a, version_a), (code_b, version_b) = _ref(a), _ref(b)

    async def action(runtime: Runtime) -> list[Change]:
        tenant = await _tenant(runtime, slug)
        async with runtime.db.session(tenant) as session:
            before = await service.get_version(session, code_a, version_a)
            after = await service.get_version(session, code_b, version_b)
        return diff(before.content, after.content)

    _print_changes(run(action))


@catalog.command()
@TENANT
@click.argument("code")
@click.option("--version", "number", type=int, help="This version (default: newest published).")
@click.option(
    "--rulebook", type=click.Choice(["markdown", "html"]), help="Print the trader's rulebook."
)
@click.option("--json", "as_json", is_flag=True, help="Print the product JSON.")
def show(slug: str, code: str, number: int | None, rulebook: str | None, as_json: bool) -> None:
    """A product's version: its metadata, its JSON or its rulebook."""

    async def action(
        runtime: Runtime,
    ) -> tuple[CatalogueVersion, dict[str, Any]]:
        tenant = await _tenant(runtime, slug)
        async with runtime.db.session(tenant) as session:
            if number is not None:
                row = await service.get_version(session, code, number)
            else:
                found = await service.latest_published(session, code)
                if found is None:
                    raise NotFound(f"product {code!r} has no published version")
                row = found
        return row, rule_families(runtime.host, tenant)

    row, families = run(action)
    if as_json:
        click.echo(json.dumps(row.content, ensure_ascii=False, indent=2))
    elif rulebook == "html":
        click.echo(rulebook_html(row.content, families), nl=False)
    elif rulebook == "markdown":
        click.echo(rulebook_markdown(row.content, families), nl=False)
    else:
        console.print(f"{escape(row.product_code)} v{row.version} ({row.status})", markup=True)
        console.print(f"name: {escape(str(row.content.get('name')))}")
        console.print(f"content hash: {row.content_hash}")
        console.print(f"created {row.created_at:%Y-%m-%d %H:%M} UTC by {escape(row.created_by)}")
        if row.published_at:
            who = escape(row.published_by or "?")
            console.print(f"published {row.published_at:%Y-%m-%d %H:%M} UTC by {who}")
        if row.retired_at:
            who = escape(row.retired_by or "?")
            console.print(f"retired {row.retired_at:%Y-%m-%d %H:%M} UTC by {who}")


@catalog.command(name="list")
@TENANT
def list_(slug: str) -> None:
    """Every product of a desk: what is on sale, versions, drafts."""

    async def action(runtime: Runtime) -> list[service.ProductSummary]:
        tenant = await _tenant(runtime, slug)
        async with runtime.db.session(tenant) as session:
            return await service.list_products(session)

    products = run(action)
    table = Table("code", "name", "on sale", "versions", "draft", "content hash")
    for p in products:
        table.add_row(
            escape(p.code),
            escape(p.name),
            f"v{p.published}" if p.published else "-",
            str(p.versions),
            "yes" if p.has_draft else "-",
            p.content_hash or "-",
        )
    console.print(table)
    if not products:
        console.print("No products yet: publish one with `propdesk catalog publish`.")


@catalog.command()
@TENANT
@click.argument("code")
@click.argument("version", type=int)
def retire(slug: str, code: str, version: int) -> None:
    """Take a published version off sale (accounts bought under it keep it)."""

    async def action(runtime: Runtime) -> bool:
        tenant = await _tenant(runtime, slug)
        async with runtime.db.unit_of_work(tenant) as session:
            result = await service.retire(session, runtime.queue, code, version, cli_actor())
        return result.changed

    changed = run(action)
    click.echo(f"{code} v{version} {'retired' if changed else 'was already retired'}")


def register(cli: click.Group) -> None:
    cli.add_command(catalog)
