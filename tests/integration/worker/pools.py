"""Synthetic, seeded ATS data for the worker tests, as wire events and as the rules see it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from worker.contracts.ats import Application, CandidateUpdated, JobOpened
from worker.contracts.encode import OutgoingMessage, ats_event
from worker.ingest.translate import job_of, snapshot_of
from worker.rules.email_syntax import email_syntax_valid
from worker.rules.model import Candidate, Job

T = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SKILLS = ["Python", "SQL", "Tableau", "Excel", "Kubernetes", "Go", "CPA", "Nursing Licence"]


@dataclass(frozen=True)
class Pool:
    updates: list[CandidateUpdated]

    def messages(self, source: str = "urn:ats:test") -> list[OutgoingMessage]:
        return [
            ats_event(
                u, event_id=f"cand-{u.candidate_id}-{u.updated_at.timestamp():.0f}", source=source
            )
            for u in self.updates
        ]

    def as_rules_see_it(self) -> list[Candidate]:
        """The stored view: the newest snapshot per candidate, email checked once."""
        newest: dict[tuple[str, str], CandidateUpdated] = {}
        for u in self.updates:
            key = (u.tenant_id, u.candidate_id)
            if key not in newest or newest[key].updated_at < u.updated_at:
                newest[key] = u
        return [to_candidate(u) for u in newest.values()]


def to_candidate(update: CandidateUpdated) -> Candidate:
    s = snapshot_of(update)
    return Candidate(
        tenant_id=s.tenant_id,
        candidate_id=s.candidate_id,
        email=s.email,
        email_syntax_valid=email_syntax_valid(s.email),
        email_status=s.email_status,
        email_suppressed=False,
        do_not_contact=s.do_not_contact,
        consent_expires_at=s.consent_expires_at,
        last_activity_at=s.last_activity_at,
        credentials=s.credentials,
        updated_at=s.updated_at,
        first_name=s.first_name,
        last_name=s.last_name,
        applications=s.applications,
    )


def make_pool(seed: int, size: int, tenant_id: str = "acme", updated_at: datetime = T) -> Pool:
    rng = random.Random(seed)
    updates = []
    for n in range(size):
        candidate_id = f"C-{n:04d}"
        email = rng.choice(
            [f"person{n}@example.com"] * 8 + [None, "not-an-address", f"p{n}@example.org"]
        )
        credentials = rng.sample(SKILLS, rng.randint(0, 5))
        if rng.random() < 0.2:
            credentials = [c.upper() for c in credentials]
        applied_at = T - timedelta(days=rng.randint(200, 700))
        updates.append(
            CandidateUpdated(
                tenant_id=tenant_id,
                candidate_id=candidate_id,
                email=email,
                first_name=rng.choice(["Ada", "Grace", "Linus", None]),
                last_name=rng.choice(["Lovelace", "Hopper", None]),
                credentials=tuple(credentials),
                last_activity_at=T
                - timedelta(days=rng.randint(100, 500), hours=rng.randint(0, 23)),
                do_not_contact=rng.random() < 0.1,
                email_status=rng.choice(["unknown"] * 6 + ["valid", "bounced", "invalid"]),
                consent_expires_at=rng.choice(
                    [None] * 5 + [T - timedelta(days=1), T + timedelta(days=30)]
                ),
                applications=(
                    (
                        Application(
                            job_id=f"OLD-{n}", job_title="Data Analyst", applied_at=applied_at
                        ),
                    )
                    if rng.random() < 0.5
                    else ()
                ),
                updated_at=updated_at - timedelta(days=1),
            )
        )
    return Pool(updates)


def job_opened(
    job_id: str = "J-1",
    required: tuple[str, ...] = ("python",),
    preferred: tuple[str, ...] = ("SQL", "Tableau"),
    opened_at: datetime = T,
    tenant_id: str = "acme",
    max_outreach: int | None = None,
) -> JobOpened:
    return JobOpened(
        tenant_id=tenant_id,
        job_id=job_id,
        title="Senior Data Analyst",
        required_credentials=required,
        preferred_credentials=preferred,
        apply_url="https://jobs.example.com/J-1",
        opened_at=opened_at,
        policy=None if max_outreach is None else {"max_outreach": max_outreach},
    )


def as_job(data: JobOpened) -> Job:
    return job_of(data)
