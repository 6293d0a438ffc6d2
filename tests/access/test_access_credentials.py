"""Sessions and API tokens against PostgreSQL: stored hashed, expiry and revocation honoured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from propdesk.access import service
from propdesk.access.auth import authenticate, principal_for_session
from propdesk.access.models import ApiToken, StaffSession, StaffUser
from propdesk.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from propdesk.runtime import Runtime


def bearer(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {token}".encode())]


async def test_emails_are_stored_lowercase_and_unique(propdesk_runtime: Runtime, make_staff):
    staff = await make_staff()
    async with propdesk_runtime.db.session() as session:
        stored = await session.scalar(select(StaffUser.email).where(StaffUser.id == staff.user.id))
        assert stored == staff.email == staff.email.lower()
        found = await service.find_user_by_email(session, "  " + staff.email.upper())
        assert found is not None and found.id == staff.user.id
    with pytest.raises(Conflict):
        async with propdesk_runtime.db.unit_of_work() as session:
            await service.create_user(
                session, email=staff.email.upper(), password="another long password", actor="t"
            )


async def test_weak_password_and_bad_email_are_refused_naming_the_field(propdesk_runtime):
    with pytest.raises(InvalidInput) as caught:
        async with propdesk_runtime.db.unit_of_work() as session:
            await service.create_user(session, email="nobody", password="short", actor="t")
    assert {p.field for p in caught.value.problems} == {"email", "password"}


async def test_login_refuses_wrong_password_unknown_email_and_inactive_alike(
    propdesk_runtime: Runtime, make_staff
):
    staff = await make_staff()
    inactive = await make_staff(active=False)
    attempts = [
        (staff.email, "wrong password entirely"),
        ("nobody-" + staff.email, staff.password),
        (inactive.email, inactive.password),
    ]
    messages = set()
    for email, password in attempts:
        with pytest.raises(Unauthenticated) as caught:
            async with propdesk_runtime.db.unit_of_work() as session:
                await service.login(session, email=email, password=password, session_hours=1)
        messages.add(caught.value.detail)
    assert messages == {service.LOGIN_FAILED}


async def test_session_is_stored_hashed_and_ends_on_logout_or_expiry(
    propdesk_runtime: Runtime, make_staff
):
    staff = await make_staff()
    db = propdesk_runtime.db
    async with db.unit_of_work() as session:
        _, secret = await service.login(
            session, email=staff.email, password=staff.password, session_hours=1
        )
    async with db.session() as session:
        hashes = (await session.scalars(select(StaffSession.token_hash))).all()
        assert secret not in hashes
        principal = await principal_for_session(session, secret)
    assert principal is not None and principal.user_id == staff.user.id
    cookie = [(b"cookie", f"theme=dark; propdesk_session={secret}".encode())]
    assert (await authenticate(db, cookie)) == principal

    async with db.unit_of_work() as session:
        assert await service.logout(session, secret)
    assert await authenticate(db, cookie) is None

    async with db.unit_of_work() as session:
        _, secret = await service.login(
            session, email=staff.email, password=staff.password, session_hours=1
        )
        await session.execute(
            update(StaffSession)
            .where(StaffSession.user_id == staff.user.id, StaffSession.revoked_at.is_(None))
            .values(expires_at=service.utcnow() - timedelta(seconds=1))
        )
    assert await authenticate(db, [(b"cookie", f"propdesk_session={secret}".encode())]) is None


async def test_api_token_is_stored_only_as_a_hash(propdesk_runtime: Runtime, make_staff):
    staff = await make_staff()
    db = propdesk_runtime.db
    async with db.unit_of_work() as session:
        _, raw = await service.create_api_token(
            session,
            user=staff.user,
            name="ci",
            tenant_slug=None,
            expires_in_days=None,
            actor="t",
        )
    async with db.owner_engine.connect() as conn:
        dump = (await conn.execute(text("SELECT api_token::text FROM propdesk.api_token"))).all()
        audit = (await conn.execute(text("SELECT audit_log::text FROM propdesk.audit_log"))).all()
    assert dump and all(raw not in row[0] for row in dump)
    assert all(raw not in row[0] for row in audit)
    principal = await authenticate(db, bearer(raw))
    assert principal is not None
    assert (principal.user_id, principal.via, principal.token_tenant) == (
        staff.user.id,
        "token",
        None,
    )
    assert await authenticate(db, bearer(raw[:-1] + ("A" if raw[-1] != "A" else "B"))) is None


async def test_revoked_expired_and_deactivated_tokens_are_refused(
    propdesk_runtime: Runtime, make_staff
):
    staff = await make_staff()
    db = propdesk_runtime.db
    raws = []
    async with db.unit_of_work() as session:
        for name in ("revoke me", "expire me"):
            token, raw = await service.create_api_token(
                session,
                user=staff.user,
                name=name,
                tenant_slug=None,
                expires_in_days=30,
                actor="t",
            )
            raws.append((token.id, raw))
    (revoked_id, revoked), (expired_id, expired) = raws
    assert await authenticate(db, bearer(revoked)) is not None

    async with db.unit_of_work() as session:
        await service.revoke_api_token(
            session, user_id=staff.user.id, token_id=revoked_id, actor="t"
        )
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == expired_id)
            .values(expires_at=service.utcnow() - timedelta(seconds=1))
        )
    assert await authenticate(db, bearer(revoked)) is None
    assert await authenticate(db, bearer(expired)) is None

    async with db.unit_of_work() as session:
        _, live = await service.create_api_token(
            session,
            user=staff.user,
            name="live",
            tenant_slug=None,
            expires_in_days=None,
            actor="t",
        )
        (await session.get(StaffUser, staff.user.id)).is_active = False
    assert await authenticate(db, bearer(live)) is None


async def test_someone_elses_token_cannot_be_revoked(propdesk_runtime: Runtime, make_staff):
    owner, other = await make_staff(), await make_staff()
    async with propdesk_runtime.db.unit_of_work() as session:
        token, raw = await service.create_api_token(
            session,
            user=owner.user,
            name="mine",
            tenant_slug=None,
            expires_in_days=None,
            actor="t",
        )
    with pytest.raises(NotFound):
        async with propdesk_runtime.db.unit_of_work() as session:
            await service.revoke_api_token(
                session, user_id=other.user.id, token_id=token.id, actor="t"
            )
    assert await authenticate(propdesk_runtime.db, bearer(raw)) is not None


async def test_last_used_is_written_at_most_once_a_minute(propdesk_runtime: Runtime, make_staff):
    staff = await make_staff()
    db = propdesk_runtime.db
    async with db.unit_of_work() as session:
        token, raw = await service.create_api_token(
            session,
            user=staff.user,
            name="poller",
            tenant_slug=None,
            expires_in_days=None,
            actor="t",
        )

    async def last_used():
        async with db.session() as session:
            return await session.scalar(
                select(ApiToken.last_used_at).where(ApiToken.id == token.id)
            )

    assert await last_used() is None
    await authenticate(db, bearer(raw))
    first = await last_used()
    assert first is not None
    await authenticate(db, bearer(raw))
    assert await last_used() == first  # within the minute: not written again

    async with db.unit_of_work() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=first - timedelta(minutes=2))
        )
    await authenticate(db, bearer(raw))
    assert await last_used() >= first  # a minute later: written again


async def test_desk_token_needs_a_role_on_that_desk(
    propdesk_runtime: Runtime, make_staff, two_desks
):
    a, b = two_desks
    admin = await make_staff(("desk_admin", a))
    operator = await make_staff(("operator", None))
    async with propdesk_runtime.db.unit_of_work() as session:
        _, raw = await service.create_api_token(
            session, user=admin.user, name="a", tenant_slug=a, expires_in_days=1, actor="t"
        )
        await service.create_api_token(
            session, user=operator.user, name="b", tenant_slug=b, expires_in_days=1, actor="t"
        )
    principal = await authenticate(propdesk_runtime.db, bearer(raw))
    assert principal is not None and principal.token_tenant == a
    with pytest.raises(Forbidden):
        async with propdesk_runtime.db.unit_of_work() as session:
            await service.create_api_token(
                session, user=admin.user, name="b", tenant_slug=b, expires_in_days=1, actor="t"
            )
