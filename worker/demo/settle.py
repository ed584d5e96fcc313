"""Waiting for the loop to settle: the worker stored the candidates, matched the jobs, and
the mailer's reports came back (and the catcher holds the emails).

Progress comes from the store (and the catcher's folder), never from timing guesses. A wait
gives up only when nothing has moved for `stall_s`: a big data set may take minutes, a
stopped worker is noticed within the stall window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Select, func, select, tuple_

from worker.devrun.mailbox import Mailbox
from worker.store.candidates import in_pool
from worker.store.engine import READ_ONLY
from worker.store.schema import CandidateRow, JobRow, OutreachRow, OutreachStatus


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    complete: bool


Probe = Callable[[], Progress]


class StalledError(Exception):
    """Nothing moved for the stall window: the loop is not running (or not reaching us)."""

    def __init__(self, what: str, progress: Progress, stall_s: float) -> None:
        super().__init__(
            f"{what}: no progress for {stall_s:g} s ({progress.done} of {progress.total})"
        )
        self.what = what
        self.progress = progress


def wait_until_complete(
    probe: Probe,
    *,
    what: str,
    stall_s: float,
    on_progress: Callable[[Progress], None] = lambda _p: None,
    poll_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    last: Progress | None = None
    moved_at = clock()
    while True:
        progress = probe()
        on_progress(progress)
        if progress.complete:
            return progress
        if progress != last:
            last, moved_at = progress, clock()
        elif clock() - moved_at >= stall_s:
            raise StalledError(what, progress, stall_s)
        sleep(poll_s)


def candidates_stored(engine: Engine, tenant_ids: Collection[str], expected: int) -> Probe:
    statement = select(func.count()).where(
        CandidateRow.tenant_id.in_(sorted(tenant_ids)), in_pool()
    )

    def probe() -> Progress:
        done = _scalar(engine, statement)
        return Progress(done, expected, done >= expected)

    return probe


def jobs_stored(engine: Engine, keys: Sequence[tuple[str, str]]) -> Probe:
    statement = select(func.count()).where(
        tuple_(JobRow.tenant_id, JobRow.job_id).in_(list(keys)), JobRow.opened_at.is_not(None)
    )

    def probe() -> Progress:
        done = _scalar(engine, statement)
        return Progress(done, len(keys), done >= len(keys))

    return probe


def outreach_settled(engine: Engine, tenant_ids: Collection[str], mailbox: Mailbox | None) -> Probe:
    """Every outreach has a final status from the mailer's reports; and, when the catcher's
    folder is known, every one reported sent is in it. `done` counts emails caught (or
    outreach settled, without a folder)."""
    statement = select(OutreachRow.outreach_id, OutreachRow.status).where(
        OutreachRow.tenant_id.in_(sorted(tenant_ids))
    )

    def probe() -> Progress:
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            rows = connection.execute(statement).all()
        settled = [r for r in rows if r.status != OutreachStatus.REQUESTED.value]
        if mailbox is None:
            return Progress(len(settled), len(rows), len(settled) == len(rows))
        caught = mailbox.refresh().by_outreach
        sent = [r.outreach_id for r in rows if r.status == OutreachStatus.SENT.value]
        done = sum(1 for r in rows if r.outreach_id in caught)
        complete = len(settled) == len(rows) and all(o in caught for o in sent)
        return Progress(done, len(rows), complete)

    return probe


def _scalar(engine: Engine, statement: Select[int]) -> int:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return int(connection.execute(statement).scalar_one())
