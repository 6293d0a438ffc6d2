"""The application role and its grants: full use of the tables, but audit rows are append-only."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from propdesk.tenancy.naming import quote_schema

_ROLE_LOCK = 0x70726F70  # one advisory lock id for role DDL: roles are cluster-wide


def _quote_role(role: str) -> str:
    if not role.replace("_", "").isalnum():
        raise ValueError(f"refusing unsafe role name {role!r}")
    return f'"{role}"'


async def ensure_app_role(conn: AsyncConnection, role: str) -> None:
    """Create the application role if missing and let the login role switch to it."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ROLE_LOCK})
    exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        await conn.exec_driver_sql(f"CREATE ROLE {_quote_role(role)} NOLOGIN")
    member = await conn.scalar(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role})
    if not member:
        await conn.exec_driver_sql(f"GRANT {_quote_role(role)} TO CURRENT_USER")


async def grant_schema(conn: AsyncConnection, schema: str, role: str) -> None:
    """Grant ``role`` the use of every table in ``schema``, except changing audit records."""
    s, r = quote_schema(schema), _quote_role(role)
    for statement in (
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {s}.audit_log FROM {r}",
    ):
        await conn.exec_driver_sql(statement)
