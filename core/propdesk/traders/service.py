"""Registering a trader: e-mail, password, name, country and consent, checked and audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.passwords import hash_password, password_problem
from propdesk.audit.service import record
from propdesk.errors import Conflict, FieldProblem, InvalidInput, NotFound
from propdesk.traders.models import Trader

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str,
    country: str,
    accept_terms: bool,
    marketing: bool = False,
    actor: str = "trader:self",
) -> Trader:
    """A new trader of the session's desk.

    :raises InvalidInput: every field that is wrong, each named.
    :raises Conflict: the e-mail (in any case) is registered already.
    """
    email, name, country = email.strip(), name.strip(), country.strip().upper()
    problems = []
    if not _EMAIL.fullmatch(email) or len(email) > 320:
        problems.append(FieldProblem("email", "not an e-mail address"))
    if (why := password_problem(password)) is not None:
        problems.append(FieldProblem("password", why))
    if not name:
        problems.append(FieldProblem("name", "required"))
    if not _COUNTRY.fullmatch(country):
        problems.append(FieldProblem("country", "an ISO 3166 country code such as DE or GB"))
    if accept_terms is not True:
        problems.append(FieldProblem("accept_terms", "the terms must be accepted to register"))
    if problems:
        raise InvalidInput("the registration is incomplete", problems=problems)
    if await find(session, email) is not None:
        raise Conflict(
            f"{email} is registered already: sign in instead",
            problems=[FieldProblem("email", "registered already")],
        )
    trader = Trader(
        email=email,
        password_hash=hash_password(password),
        name=name,
        country=country,
        terms_accepted_at=datetime.now(UTC),
        marketing_consent=bool(marketing),
    )
    session.add(trader)
    try:
        await session.flush()
    except IntegrityError:  # registered at the same moment by another request
        raise Conflict(
            f"{email} is registered already: sign in instead",
            problems=[FieldProblem("email", "registered already")],
        ) from None
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="trader.registered",
        target=f"trader:{trader.id}",
        after={"email": email, "country": country, "marketing_consent": bool(marketing)},
    )
    return trader


async def find(session: AsyncSession, email: str) -> Trader | None:
    return await session.scalar(
        select(Trader).where(func.lower(Trader.email) == email.strip().lower())
    )


async def get(session: AsyncSession, trader_id: int) -> Trader:
    trader = await session.get(Trader, trader_id)
    if trader is None:
        raise NotFound(f"no trader {trader_id}")
    return trader
