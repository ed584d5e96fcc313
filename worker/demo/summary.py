"""The demo's outcome, per job: the funnel (status_page.funnel, the page's own numbers),
outreach by status, and how many of its emails the catcher holds."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from worker.devrun.mailbox import Mailbox
from worker.rules.model import Policy
from worker.status_page.funnel import Funnel, job_funnel
from worker.status_page.report import OUTREACH_STATUSES
from worker.store.candidates import in_pool
from worker.store.engine import READ_ONLY
from worker.store.jobs import load_job
from worker.store.schema import CandidateRow, OutreachRow


@dataclass(frozen=True, slots=True)
class JobSummary:
    tenant_id: str
    job_id: str
    title: str
    funnel: Funnel
    outreach: Mapping[str, int]
    # None when the catcher's folder is unknown.
    caught: int | None

    @property
    def requested(self) -> int:
        return sum(self.outreach.values())


@dataclass(frozen=True, slots=True)
class DemoSummary:
    pools: Mapping[str, int]
    jobs: tuple[JobSummary, ...]
    # One caught email, for people to open: the best-ranked outreach of the first job.
    example_email: Path | None


def summarise(
    engine: Engine,
    job_keys: Sequence[tuple[str, str]],
    defaults: Policy,
    mailbox: Mailbox | None,
) -> DemoSummary:
    tenants = sorted({tenant for tenant, _ in job_keys})
    caught = mailbox.refresh().by_outreach if mailbox is not None else None
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        pools = {
            tenant_id: int(n)
            for tenant_id, n in connection.execute(
                select(CandidateRow.tenant_id, func.count())
                .where(CandidateRow.tenant_id.in_(tenants), in_pool())
                .group_by(CandidateRow.tenant_id)
            )
        }
        rows = connection.execute(
            select(
                OutreachRow.tenant_id,
                OutreachRow.job_id,
                OutreachRow.outreach_id,
                OutreachRow.status,
            )
            .where(OutreachRow.tenant_id.in_(tenants))
            .order_by(OutreachRow.rank)
        ).all()
        by_job: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for row in rows:
            by_job[(row.tenant_id, row.job_id)].append((row.outreach_id, row.status))
        jobs: list[JobSummary] = []
        for tenant_id, job_id in job_keys:
            job = load_job(connection, tenant_id, job_id)
            if job is None:
                continue
            outreach = by_job[(tenant_id, job_id)]
            statuses = Counter(status for _, status in outreach)
            jobs.append(
                JobSummary(
                    tenant_id=tenant_id,
                    job_id=job_id,
                    title=job.title,
                    funnel=job_funnel(connection, job, defaults),
                    outreach={s: statuses.get(s, 0) for s in OUTREACH_STATUSES},
                    caught=None if caught is None else sum(1 for o, _ in outreach if o in caught),
                )
            )
    example = None
    if caught:
        example = next((caught[o] for key in job_keys for o, _ in by_job[key] if o in caught), None)
    return DemoSummary(pools=pools, jobs=tuple(jobs), example_email=example)
