"""The chart of accounts and the shape of a balanced transaction: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from propdesk.errors import FieldProblem, InvalidInput

Kind = Literal["asset", "liability", "revenue", "contra_revenue", "expense"]

#: Every desk's accounts (seeded by migrations ``t0006`` and ``t0013``): code -> kind.
ACCOUNTS: dict[str, Kind] = {
    "cash_at_psp": "asset",
    "cash_at_bank": "asset",
    "fee_revenue": "revenue",
    "refunds": "contra_revenue",
    "chargebacks": "contra_revenue",
    "psp_fees": "expense",
    "payout_expense": "expense",
    "payouts_payable": "liability",
    "commission_expense": "expense",
    "commissions_payable": "liability",
}
#: Accounts whose balance is normally a debit (positive); the others' a credit.
DEBIT_NORMAL = frozenset(
    c for c, k in ACCOUNTS.items() if k in ("asset", "expense", "contra_revenue")
)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Line:
    """One entry: a debit (positive ``amount``) or a credit (negative) to ``account``."""

    account: str
    amount: Decimal


def debit(account: str, amount: Decimal) -> Line:
    return Line(account, amount)


def credit(account: str, amount: Decimal) -> Line:
    return Line(account, -amount)


def check_lines(lines: Sequence[Line]) -> tuple[Line, ...]:
    """``lines`` if they make a balanced transaction: at least two, known accounts, non-zero
    amounts in whole cents, summing to zero. Otherwise ``InvalidInput`` naming each line."""
    problems: list[FieldProblem] = []
    if len(lines) < 2:
        problems.append(FieldProblem("lines", "a transaction has at least two entries"))
    for i, line in enumerate(lines):
        where = f"lines/{i}"
        if line.account not in ACCOUNTS:
            problems.append(FieldProblem(f"{where}/account", f"unknown account {line.account!r}"))
        amount = line.amount
        if not isinstance(amount, Decimal) or not amount.is_finite():
            problems.append(FieldProblem(f"{where}/amount", f"{amount!r} is not a Decimal"))
        elif amount == 0 or amount != amount.quantize(CENT):
            problems.append(FieldProblem(f"{where}/amount", f"{amount} is zero or not whole cents"))
    if not problems:
        total = sum((line.amount for line in lines), Decimal(0))
        if total != 0:
            problems.append(FieldProblem("lines", f"debits and credits differ by {total}"))
    if problems:
        raise InvalidInput("the ledger transaction is not balanced", problems=problems)
    return tuple(lines)


def same_lines(a: Iterable[Line], b: Iterable[Line]) -> bool:
    """Whether two transactions move the same amounts on the same accounts (any order)."""
    return sorted((x.account, x.amount) for x in a) == sorted((x.account, x.amount) for x in b)
