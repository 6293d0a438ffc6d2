"""What the engine writes together: a batch split by account keeps each account's rows whole
and in order, so a decision taken while a backlog is being written never overtakes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from propdesk.engine.desk import Batch

AT = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def clock(account_id: int, after_seq: int) -> tuple[int, int, datetime, str, str, None]:
    return (account_id, after_seq, AT, "clock", f'{{"n":{after_seq}}}', None)


def batch(*rows: tuple[int, int, datetime, str, str, None], **lists: Any) -> Batch:
    made = Batch(engine_events=list(rows))
    for name, value in lists.items():
        setattr(made, name, value)
    return made


def test_taking_accounts_moves_all_their_rows_and_only_theirs() -> None:
    backlog = batch(clock(1, 5), clock(2, 7), clock(1, 6), late=[(2, 3)], fresh=[1, 2])
    taken = backlog.take({1})
    assert taken.engine_events == [clock(1, 5), clock(1, 6)]
    assert taken.fresh == [1] and taken.late == []
    assert backlog.engine_events == [clock(2, 7)]
    assert backlog.late == [(2, 3)] and backlog.fresh == [2]
    assert taken.accounts() == {1} and backlog.accounts() == {2}


def test_older_rows_from_a_flush_under_way_go_before_the_newer_ones() -> None:
    flushing = batch(clock(1, 5), clock(3, 1))
    backlog = batch(clock(1, 9))
    taken = flushing.take({1})
    taken.merge(backlog.take({1}))
    assert [row[1] for row in taken.engine_events] == [5, 9]
    assert flushing.engine_events == [clock(3, 1)] and not backlog


def test_taking_everything_leaves_an_empty_batch_that_starts_its_age_again() -> None:
    backlog = batch(clock(1, 5))
    backlog.since = 12.5
    taken = backlog.take()
    assert taken.since == 12.5 and taken.engine_events == [clock(1, 5)]
    assert not backlog and backlog.since is None
    backlog.merge(batch(clock(2, 1)))
    assert backlog.since is not None and backlog.since != 12.5
