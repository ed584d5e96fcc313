"""What the status page shows, as plain values: `collect.py` fills it, `render.py` draws it.

Ids, titles, dates and counts only: the page never carries a candidate's name or address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from worker.outbox.gauges import OutboxBacklog
from worker.rules.model import Job
from worker.status_page.funnel import Funnel

# Outreach statuses in the order a request moves through them.
OUTREACH_STATUSES: tuple[str, ...] = ("requested", "sent", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class JobStatus:
    job: Job
    funnel: Funnel
    # Outreach rows for the job by status (every status present, zeros included).
    outreach: Mapping[str, int]

    @property
    def closed(self) -> bool:
        return self.job.closed_at is not None and self.job.closed_at >= self.job.opened_at

    @property
    def requested_total(self) -> int:
        return sum(self.outreach.values())


@dataclass(frozen=True, slots=True)
class TenantStatus:
    tenant_id: str
    pool: int
    # The tenant's jobs among the page's most recently opened; `jobs_opened` counts them all.
    jobs: tuple[JobStatus, ...]
    jobs_opened: int = 0


@dataclass(frozen=True, slots=True)
class StatusReport:
    generated_at: datetime
    database: str  # the backend's name only, never the URL
    tenants: tuple[TenantStatus, ...]
    jobs_total: int
    jobs_shown: int
    outreach_totals: Mapping[str, int]
    outbox: OutboxBacklog
    # Dead letters this process produced since it started, per original topic.
    dead_letters: Mapping[str, int]
    # Tenants left off the page (it shows a bounded number of them).
    tenants_hidden: int = 0
