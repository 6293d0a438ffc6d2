"""``propdesk users``: create staff users, grant them roles, list them."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass

import click
from rich.table import Table

from propdesk.access import service
from propdesk.access.passwords import password_problem
from propdesk.access.permissions import GROUP_ROLES, ROLES
from propdesk.access.policies import RoleGrant
from propdesk.cli.common import cli_actor, console, run
from propdesk.errors import InvalidInput, NotFound
from propdesk.runtime import Runtime
from propdesk.tenancy.directory import load_tenant


@dataclass(frozen=True)
class CreateOutcome:
    email: str
    created: bool
    granted: bool
    generated_password: str | None


def _prompt_password() -> str:
    while True:
        password: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password"
        )
        if (why := password_problem(password)) is None:
            return password
        click.echo(f"Not a usable password: {why}.", err=True)


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if (why := password_problem(password)) is not None:
        raise click.UsageError(f"the password on stdin is not usable: {why}")
    return password


@click.group()
def users() -> None:
    """Staff users and their roles."""


@users.command()
@click.option("--email", required=True, help="The staff user's e-mail (their login).")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role to grant.")
@click.option(
    "--tenant",
    "tenant_slug",
    help=f"The desk of a desk role (not for the group-wide roles {', '.join(GROUP_ROLES)}).",
)
@click.option("--name", "display_name", default="", help="Display name of a new user.")
@click.option(
    "--password-stdin", is_flag=True, help="Read a new user's password from the first stdin line."
)
def create(
    email: str, role: str, tenant_slug: str | None, display_name: str, password_stdin: bool
) -> None:
    """Create a staff user (if new) and grant ROLE; says when nothing changed.

    Without --password-stdin a new user's password is asked twice; when nobody can answer
    (not a terminal), a strong one is generated and printed once.
    """
    try:
        service.check_grant(role, tenant_slug)
    except InvalidInput as exc:
        raise click.UsageError(exc.detail) from None
    stdin_password = _password_from_stdin() if password_stdin else None
    actor = cli_actor()

    async def action(runtime: Runtime) -> CreateOutcome:
        async with runtime.db.session() as session:
            existing = await service.find_user_by_email(session, email)
            tenant = await load_tenant(session, tenant_slug) if tenant_slug else None
        if tenant_slug is not None and tenant is None:
            raise NotFound(
                f"there is no desk {tenant_slug!r}: create it first with `propdesk tenants apply`"
            )
        password, generated = None, None
        if existing is None:
            if stdin_password is not None:
                password = stdin_password
            elif sys.stdin.isatty():
                password = _prompt_password()
            else:
                password = generated = secrets.token_urlsafe(18)
        async with runtime.db.unit_of_work(tenant) as session:
            if existing is None:
                assert password is not None
                user = await service.create_user(
                    session,
                    email=email,
                    password=password,
                    actor=actor,
                    display_name=display_name,
                )
            else:
                user = await service.get_user(session, existing.id)
            granted = await service.grant_role(
                session,
                user=user,
                role=role,
                tenant_slug=tenant_slug,
                actor=actor,
                redis_url=runtime.redis_url,
            )
        return CreateOutcome(user.email, existing is None, granted, generated)

    outcome = run(action)
    grant = RoleGrant(role, tenant_slug)
    if outcome.created:
        console.print(f"Created staff user {outcome.email}.")
    if outcome.generated_password is not None:
        console.print(f"Generated password (shown only now): [bold]{outcome.generated_password}[/]")
    if outcome.granted:
        console.print(f"Granted {grant} to {outcome.email}.")
    elif not outcome.created:
        console.print(f"Nothing changed: {outcome.email} already holds {grant}.")


@users.command(name="list")
def list_() -> None:
    """Show every staff user with their roles."""

    async def action(runtime: Runtime) -> list[service.StaffMember]:
        async with runtime.db.session() as session:
            return await service.list_staff(session)

    members = run(action)
    table = Table("e-mail", "name", "active", "roles")
    for member in members:
        roles = ", ".join(
            f"{g.role} (every desk)" if g.tenant is None else f"{g.role} on {g.tenant}"
            for g in member.roles
        )
        table.add_row(
            member.user.email,
            member.user.display_name or "-",
            "yes" if member.user.is_active else "[yellow]no[/]",
            roles or "-",
        )
    console.print(table)
    if not members:
        console.print("No staff users yet: run `propdesk users create`.")


def register(cli: click.Group) -> None:
    cli.add_command(users)
