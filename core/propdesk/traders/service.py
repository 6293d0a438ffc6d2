"""Registering a trader: e-mail, password, name, country and consent, checked and audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.passwords import hash_password, password_problem
from propdesk.audit.service import record
from propdesk.errors import Conflict, FieldProblem, InvalidInput, NotFound
from propdesk.kyc.contract import KycStatus
from propdesk.lifecycle import machine
from propdesk.lifecycle.models import ChallengeRow
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


KYC_STATUSES: tuple[str, ...] = get_args(KycStatus)
MAX_PAGE = 200


@dataclass(frozen=True)
class TraderFilter:
    """What staff look traders up by; empty fields do not filter. ``status`` and ``phase`` (a
    phase kind) are those of one of the trader's challenges."""

    text: str = ""
    status: str = ""
    phase: str = ""
    kyc: str = ""
    country: str = ""

    def problems(self) -> list[FieldProblem]:
        checks = (
            ("status", self.status, machine.STATUSES),
            ("phase", self.phase, machine.PHASE_KINDS),
            ("kyc", self.kyc, KYC_STATUSES),
        )
        found = [
            FieldProblem(name, f"one of {', '.join(allowed)}")
            for name, value, allowed in checks
            if value and value not in allowed
        ]
        if self.country and not _COUNTRY.fullmatch(self.country):
            found.append(FieldProblem("country", "an ISO 3166 country code such as DE or GB"))
        return found


@dataclass(frozen=True)
class TraderPage:
    traders: list[Trader]
    #: How many traders match in all (for paging).
    total: int


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


async def search(
    session: AsyncSession, found: TraderFilter, *, limit: int = 25, offset: int = 0
) -> TraderPage:
    """The desk's traders matching ``found``, newest first, a page at a time.

    :raises InvalidInput: a filter value that is not one the desk knows, named by its field.
    """
    problems = found.problems()
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        problems.append(FieldProblem("page", f"1 to {MAX_PAGE} traders a page, from 0"))
    if problems:
        raise InvalidInput("these filters cannot be used", problems=problems)
    query = select(Trader)
    if found.text.strip():
        pattern = _like(found.text.strip())
        query = query.where(or_(Trader.name.ilike(pattern), Trader.email.ilike(pattern)))
    if found.kyc:
        query = query.where(Trader.kyc_status == found.kyc)
    if found.country:
        query = query.where(Trader.country == found.country)
    if found.status or found.phase:
        challenge = select(ChallengeRow.id).where(
            func.lower(ChallengeRow.trader_email) == func.lower(Trader.email)
        )
        if found.status:
            challenge = challenge.where(ChallengeRow.status == found.status)
        if found.phase:
            kind = ChallengeRow.phases.op("->")(ChallengeRow.phase).op("->>")("kind")
            challenge = challenge.where(kind == found.phase)
        query = query.where(exists(challenge))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Trader.created_at.desc(), Trader.id.desc()).limit(limit).offset(offset)
    )
    return TraderPage(list(rows), int(total or 0))


async def countries(session: AsyncSession) -> list[str]:
    """The countries the desk's traders come from, A to Z."""
    rows = await session.scalars(select(Trader.country).distinct().order_by(Trader.country))
    return list(rows)
