"""``propdesk users create`` / ``list`` run as a real subprocess against the test database."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass

import httpx

from propdesk.audit.service import list_records
from propdesk.runtime import Runtime
from propdesk.tenancy.directory import load_tenant

PASSWORD = "a long cli passphrase"


@dataclass
class Result:
    code: int
    out: str
    err: str


async def propdesk(runtime: Runtime, database_url: str, *args: str, stdin: str = "") -> Result:
    env = {
        **os.environ,
        "PROPDESK_DATABASE_URL": database_url,
        "PROPDESK_REDIS_URL": runtime.redis_url,
        "PROPDESK_LOAD_ENTRYPOINTS": "false",
        "COLUMNS": "200",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "propdesk",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    return Result(process.returncode or 0, out.decode(), err.decode())


async def test_users_create_grants_a_desk_role_and_the_user_can_log_in(
    propdesk_runtime: Runtime, propdesk_database_url: str, make_tenant, client: httpx.AsyncClient
):
    slug = f"cli{uuid.uuid4().hex[:6]}"
    await make_tenant(slug)
    email = f"Cli-{uuid.uuid4().hex[:6]}@Example.com"
    args = (
        "users",
        "create",
        "--email",
        email,
        "--role",
        "desk_admin",
        "--tenant",
        slug,
        "--name",
        "Dana Desk",
        "--password-stdin",
    )

    first = await propdesk(propdesk_runtime, propdesk_database_url, *args, stdin=PASSWORD + "\n")
    assert first.code == 0, first.err
    assert f"Created staff user {email.lower()}" in first.out
    assert f"Granted desk_admin on {slug}" in first.out

    again = await propdesk(propdesk_runtime, propdesk_database_url, *args, stdin=PASSWORD + "\n")
    assert again.code == 0, again.err
    assert "Nothing changed" in again.out and "Created" not in again.out

    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    client.cookies.clear()
    assert login.status_code == 200, login.text
    cookie = {"Cookie": f"propdesk_session={login.cookies['propdesk_session']}"}
    staff = await client.get("/api/staff", headers={**cookie, "X-Propdesk-Tenant": slug})
    assert staff.status_code == 200
    assert [s["email"] for s in staff.json()] == [email.lower()]

    async with propdesk_runtime.db.session() as session:
        shared = await list_records(session, "shared", newest_first=True, limit=50)
        tenant = await load_tenant(session, slug)
    target = next(
        r.target
        for r in shared
        if r.action == "staff.created" and r.after["email"] == email.lower()
    )
    assert [r.action for r in shared if r.target == target] == [
        "staff.role_granted",
        "staff.created",
    ]
    assert all(r.actor.startswith("cli:") for r in shared if r.target == target)
    async with propdesk_runtime.db.session(tenant) as session:
        in_desk = await list_records(session, "tenant", action="staff.role_granted")
    assert [r.target for r in in_desk] == [target]

    listed = await propdesk(propdesk_runtime, propdesk_database_url, "users", "list")
    assert listed.code == 0, listed.err
    assert email.lower() in listed.out and f"desk_admin on {slug}" in listed.out


async def test_users_create_without_a_terminal_generates_a_password_once(
    propdesk_runtime: Runtime, propdesk_database_url: str, client: httpx.AsyncClient
):
    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    result = await propdesk(
        propdesk_runtime,
        propdesk_database_url,
        "users",
        "create",
        "--email",
        email,
        "--role",
        "operator",
    )
    assert result.code == 0, result.err
    line = next(x for x in result.out.splitlines() if x.startswith("Generated password"))
    password = line.rsplit(" ", 1)[1]
    assert len(password) >= 20
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    assert login.status_code == 200


async def test_users_create_refuses_wrong_role_and_desk_combinations(
    propdesk_runtime: Runtime, propdesk_database_url: str, make_tenant
):
    slug = f"cli{uuid.uuid4().hex[:6]}"
    await make_tenant(slug)
    email = f"x-{uuid.uuid4().hex[:6]}@example.com"
    cases = [
        (("--role", "operator", "--tenant", slug), "group-wide role"),
        (("--role", "risk"), "say which desk"),
        (("--role", "risk", "--tenant", "nosuchdesk"), "there is no desk 'nosuchdesk'"),
        (("--role", "wizard"), "wizard"),
    ]
    for extra, message in cases:
        result = await propdesk(
            propdesk_runtime,
            propdesk_database_url,
            "users",
            "create",
            "--email",
            email,
            "--password-stdin",
            *extra,
            stdin=PASSWORD + "\n",
        )
        assert result.code != 0, (extra, result.out)
        assert message in result.err, (extra, result.err)
    listed = await propdesk(propdesk_runtime, propdesk_database_url, "users", "list")
    assert email not in listed.out  # nothing half-created
