"""What a preview shows, as plain values: the command fills it from the store, the renderers
print it. Nothing here reads a database or the clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from worker.rules.eligibility import Exclusion
from worker.rules.model import Candidate, Job, Policy
from worker.rules.reference import Decision, Outcome


@dataclass(frozen=True, slots=True)
class Contact:
    """Who a row is about. Recruiters see names; addresses are only ever shown masked."""

    first_name: str | None
    last_name: str | None
    email: str | None

    @classmethod
    def of(cls, candidate: Candidate) -> Contact:
        return cls(candidate.first_name, candidate.last_name, candidate.email)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class RequestedRow:
    decision: Decision
    contact: Contact


@dataclass(frozen=True, slots=True)
class Explained:
    """`--explain CANDIDATE_ID`: the candidate's outcome, or None when the tenant has no such
    candidate."""

    candidate_id: str
    outcome: Outcome | None
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class PreviewReport:
    job: Job
    at: datetime
    policy: Policy
    # The job's outreach requested before this (dry) match: ranks continue from it.
    requests_before: int
    requested: tuple[RequestedRow, ...]
    exclusions: Mapping[Exclusion, int]
    explained: Explained | None = None

    @property
    def excluded_total(self) -> int:
        return sum(self.exclusions.values())
