"""The casbin model, policy syncing and policy propagation between processes."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid

import pytest
from sqlalchemy import select

from propdesk.access import enforcer as enforcer_module
from propdesk.access import policies, service
from propdesk.access.enforcer import PolicyEnforcer, build_casbin, group_domain_match
from propdesk.access.models import PolicyRule
from propdesk.access.permissions import ROLES, Permission
from propdesk.access.policies import RoleGrant, subject_for
from propdesk.runtime import Runtime
from propdesk.tenancy.directory import load_tenant

ADMIN_A, OPERATOR, LEADER = "user:admin-a", "user:operator", "user:leader"

POLICY = [
    ("desk_admin", "acme", "staff", "read"),
    ("desk_admin", "acme", "staff", "manage"),
    ("desk_admin", "beta", "staff", "read"),
    ("operator", "*", "staff", "read"),
    ("operator", "*", "staff", "manage"),
    ("operator", "*", "tenants", "manage"),
    ("leadership", "*", "reports", "read"),
    ("leadership", "*", "tenants", "read"),
    # A "*" rule for a desk role must not leak to desk admins of other desks.
    ("desk_admin", "*", "audit", "read"),
]
GRANTS = [
    (ADMIN_A, "desk_admin", "acme"),
    (OPERATOR, "operator", "*"),
    (LEADER, "leadership", "*"),
]


@pytest.fixture
def loaded() -> PolicyEnforcer:
    enforcer = PolicyEnforcer()
    enforcer.load(POLICY, GRANTS)
    return enforcer


def test_domain_matching_lets_only_group_grants_span_desks() -> None:
    assert group_domain_match("acme", "*")
    assert not group_domain_match("beta", "acme")
    assert not group_domain_match("*", "acme")


@pytest.mark.parametrize(
    ("subject", "domain", "obj", "act", "allowed"),
    [
        (ADMIN_A, "acme", "staff", "read", True),
        (ADMIN_A, "acme", "staff", "manage", True),
        (ADMIN_A, "beta", "staff", "read", False),  # another desk
        (ADMIN_A, "*", "staff", "read", False),  # group-wide
        (ADMIN_A, "acme", "audit", "read", False),  # "*" rule of a desk role
        (ADMIN_A, "*", "audit", "read", False),
        (OPERATOR, "acme", "staff", "manage", True),
        (OPERATOR, "beta", "staff", "manage", True),
        (OPERATOR, "*", "tenants", "manage", True),
        (LEADER, "*", "reports", "read", True),
        (LEADER, "*", "tenants", "read", True),
        (LEADER, "*", "tenants", "manage", False),
        (LEADER, "acme", "staff", "manage", False),
        ("user:nobody", "acme", "staff", "read", False),
        ("desk_admin", "acme", "staff", "read", True),  # roles are never principals' subjects
    ],
)
def test_model_matrix(loaded, subject, domain, obj, act, allowed) -> None:
    assert loaded.enforce(subject, domain, obj, act) is allowed


def test_sliced_checks_answer_exactly_as_casbin_over_the_whole_policy() -> None:
    rng = random.Random(20261121)
    desks, objects, users = ["acme", "beta", "gamma", "*"], ["staff", "audit", "payouts"], 12
    policy = [
        (rng.choice(ROLES), rng.choice(desks), rng.choice(objects), rng.choice(["read", "manage"]))
        for _ in range(60)
    ]
    grants = [
        (f"user:{rng.randrange(users)}", rng.choice(ROLES), rng.choice(desks)) for _ in range(30)
    ]
    sliced = PolicyEnforcer()
    sliced.load(policy, grants)
    whole = build_casbin(policy, grants)
    questions = [
        (f"user:{u}", d, o, a)
        for u in range(users)
        for d in [*desks, "delta"]
        for o in objects
        for a in ("read", "manage")
    ]
    answers = [sliced.enforce(*q) for q in questions]
    assert answers == [bool(whole.enforce(*q)) for q in questions]
    assert any(answers) and not all(answers)


def test_an_empty_policy_denies_everything() -> None:
    assert not PolicyEnforcer().enforce(OPERATOR, "*", "tenants", "read")


PERMS = {
    ("staff", "read"): Permission("staff", "read", "r", "tenant", ("desk_admin", "support")),
    ("staff", "manage"): Permission("staff", "manage", "m", "tenant", ("desk_admin",)),
    ("payouts", "read"): Permission("payouts", "read", "p", "tenant", ("finance", "leadership")),
    ("reports", "read"): Permission("reports", "read", "r", "group", ("leadership",)),
}


@contextlib.asynccontextmanager
async def rolled_back(runtime: Runtime):
    """A session whose changes are thrown away (the shared policy stays as other tests need)."""
    async with runtime.db.session() as session:
        transaction = await session.begin()
        try:
            yield session
        finally:
            await transaction.rollback()


async def test_sync_tenant_roles_adds_then_reports_nothing_then_removes(propdesk_runtime):
    async with rolled_back(propdesk_runtime) as session:
        changes = await policies.sync_tenant_roles(session, "syncdesk", PERMS)
        assert changes == [
            "desk_admin may now staff:manage",
            "desk_admin may now staff:read",
            "finance may now payouts:read",
            "support may now staff:read",
        ]
        assert await policies.sync_tenant_roles(session, "syncdesk", PERMS) == []
        fewer = {k: v for k, v in PERMS.items() if k != ("staff", "manage")}
        assert await policies.sync_tenant_roles(session, "syncdesk", fewer) == [
            "desk_admin may no longer staff:manage"
        ]
        assert await policies.sync_tenant_roles(session, "syncdesk", fewer) == []
        rules = (
            await session.execute(
                select(PolicyRule.v0, PolicyRule.v2, PolicyRule.v3).where(
                    PolicyRule.v1 == "syncdesk"
                )
            )
        ).all()
        assert ("desk_admin", "staff", "manage") not in rules
        assert ("leadership", "payouts", "read") not in rules  # group roles live in "*"


async def test_sync_group_roles_gives_operator_everything_and_leadership_its_reads(
    propdesk_runtime,
):
    async with rolled_back(propdesk_runtime) as session:
        await policies.sync_group_roles(session, PERMS)
        assert await policies.sync_group_roles(session, PERMS) == []
        rows = await session.execute(
            select(PolicyRule.v0, PolicyRule.v2, PolicyRule.v3).where(
                PolicyRule.ptype == "p", PolicyRule.v1 == "*"
            )
        )
        by_role: dict[str, set[tuple[str, str]]] = {}
        for role, obj, act in rows:
            by_role.setdefault(role, set()).add((obj, act))
        assert by_role["operator"] == set(PERMS)
        assert by_role["leadership"] == {("payouts", "read"), ("reports", "read")}


async def test_a_grant_is_stored_once(propdesk_runtime):
    user_id = uuid.uuid4()
    grant = RoleGrant("risk", "somedesk")
    async with rolled_back(propdesk_runtime) as session:
        assert await policies.add_grant(session, user_id, grant)
        assert not await policies.add_grant(session, user_id, grant)
        assert await policies.grants_of(session, user_id) == [grant]
        assert await policies.remove_grant(session, user_id, grant)
        assert not await policies.remove_grant(session, user_id, grant)


async def eventually(check, within: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


async def test_a_role_granted_in_one_process_reaches_another_through_redis(
    propdesk_runtime: Runtime, make_staff, two_desks
):
    a, _ = two_desks
    staff = await make_staff()
    subject = subject_for(staff.user.id)
    async with (
        PolicyEnforcer.running(propdesk_runtime, refresh_seconds=3600) as here,
        PolicyEnforcer.running(propdesk_runtime, refresh_seconds=3600) as elsewhere,
    ):
        # "elsewhere" stands for another process: only Redis can tell it about the change.
        enforcer_module._running.discard(elsewhere)
        assert not here.enforce(subject, a, "staff", "read")
        assert not elsewhere.enforce(subject, a, "staff", "read")
        async with propdesk_runtime.db.session() as session:
            tenant = await load_tenant(session, a)
        async with propdesk_runtime.db.unit_of_work(tenant) as session:
            await service.grant_role(
                session,
                user=await service.get_user(session, staff.user.id),
                role="desk_admin",
                tenant_slug=a,
                actor="test",
                redis_url=propdesk_runtime.redis_url,
            )
        assert here.enforce(subject, a, "staff", "read")  # this process: reloaded at commit
        assert await eventually(lambda: elsewhere.enforce(subject, a, "staff", "read"))


async def test_a_change_is_announced_once_after_commit_and_never_after_rollback(
    propdesk_runtime, make_staff, monkeypatch
):
    # Record announcements instead of listening on Redis: other test sessions may share it.
    announced: list[str] = []

    async def publish(redis_url: str) -> None:
        announced.append(redis_url)

    monkeypatch.setattr(policies, "publish_policy_changed", publish)
    staff = await make_staff()

    async def grant(session, role: str) -> None:
        await service.grant_role(
            session,
            user=await service.get_user(session, staff.user.id),
            role=role,
            tenant_slug=None,
            actor="test",
            redis_url=propdesk_runtime.redis_url,
        )

    with pytest.raises(RuntimeError, match="changed my mind"):
        async with propdesk_runtime.db.unit_of_work() as session:
            await grant(session, "leadership")
            assert announced == []  # never before the commit
            raise RuntimeError("changed my mind")
    assert announced == []
    async with propdesk_runtime.db.unit_of_work() as session:
        assert await policies.grants_of(session, staff.user.id) == []
        await grant(session, "leadership")
        await grant(session, "operator")
    assert announced == [propdesk_runtime.redis_url]  # two changes, one announcement
