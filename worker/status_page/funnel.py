"""A job's funnel: of the tenant's pool, how many each rule excluded, in the spec's order, and
how many the cap left. Counted in one SQL statement per job (nothing loads the pool).

The funnel replays the job's match at its `opened_at` against the store as it is now:

- the job counts as open (rule 2 is about *when* it is evaluated; a closed job's funnel still
  explains the match it had);
- the job's own outreach is not history: otherwise every candidate it requested would show as
  "already requested" (rule 8), which explains nothing. Rule 8 therefore never excludes
  anyone here and has no stage;
- other jobs' outreach counts for the cooldown (rule 9) as the matcher counts it: what was
  requested within cooldown_days of T, on either side. Outreach after T did not exist when
  the job was decided in event-time order, so it changes the funnel only for a candidate the
  job did not request (the cap, or a later change) and a later job did: the funnel then shows
  them in cooldown, which is what the job would find if decided now.

So for a job whose pool has not changed since it opened, `requestable` equals the outreach it
requested at opening. Candidates updated later (reverse matching, a fixed email) are counted as
they are now. Erased candidates (tombstones, `in_pool`) are not in the pool.

`worker.rules.reference.exclusion_counts` is the definition; the tests compare the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from worker.rules.days import days_after, days_before
from worker.rules.eligibility import Exclusion, effective_policy
from worker.rules.model import Job, Policy
from worker.rules.ranking import remaining_capacity
from worker.store.candidates import in_pool
from worker.store.credential_keys import credential_keys
from worker.store.schema import CandidateCredentialRow, CandidateRow, OutreachRow

# The rules a candidate of the job's own tenant can fail, in evaluation order (rules 3-9
# without 8, see the module docstring), then the cap.
STAGES: tuple[Exclusion, ...] = (
    Exclusion.DO_NOT_CONTACT,
    Exclusion.EMAIL_UNUSABLE,
    Exclusion.CONSENT_EXPIRED,
    Exclusion.NO_ACTIVITY,
    Exclusion.NOT_DORMANT_ENOUGH,
    Exclusion.INACTIVE_TOO_LONG,
    Exclusion.MISSING_CREDENTIALS,
    Exclusion.COOLDOWN,
    Exclusion.CAP_REACHED,
)


@dataclass(frozen=True, slots=True)
class Funnel:
    """Pool → excluded per stage → requestable. `excluded` holds every stage (zeros too)."""

    pool: int
    excluded: Mapping[Exclusion, int]
    policy: Policy

    @property
    def eligible(self) -> int:
        """Passed every rule (before the cap)."""
        ruled_out = (n for rule, n in self.excluded.items() if rule is not Exclusion.CAP_REACHED)
        return self.pool - sum(ruled_out)

    @property
    def requestable(self) -> int:
        """What the match at opening requests: the eligible within the cap."""
        return self.eligible - self.excluded[Exclusion.CAP_REACHED]

    def remaining(self) -> list[tuple[Exclusion, int, int]]:
        """Each stage with its exclusions and how many are left after it."""
        left = self.pool
        steps: list[tuple[Exclusion, int, int]] = []
        for stage in STAGES:
            left -= self.excluded[stage]
            steps.append((stage, self.excluded[stage], left))
        return steps


def as_opened(job: Job) -> Job:
    """The job as at its match: open (see the module docstring)."""
    return dataclasses.replace(job, closed_at=None)


def job_funnel(connection: Connection, job: Job, defaults: Policy) -> Funnel:
    """The job's funnel at its `opened_at`, with its effective policy."""
    policy = effective_policy(job, defaults)
    at = job.opened_at
    rule = _first_failing_rule(job, at, policy).label("rule")
    per_candidate = (
        select(rule).where(CandidateRow.tenant_id == job.tenant_id, in_pool()).subquery()
    )
    # Grouped in an outer query: PostgreSQL does not see two CASEs with separately bound
    # parameters as the same expression, so GROUP BY on the CASE itself is refused.
    statement = select(per_candidate.c.rule, func.count()).group_by(per_candidate.c.rule)
    counts = {name: int(n) for name, n in connection.execute(statement)}
    pool = sum(counts.values())
    excluded = {stage: counts.get(stage.value, 0) for stage in STAGES}
    eligible = counts.get(None, 0)
    excluded[Exclusion.CAP_REACHED] = max(0, eligible - remaining_capacity(0, policy.max_outreach))
    return Funnel(pool=pool, excluded=excluded, policy=policy)


def _first_failing_rule(job: Job, at: datetime, policy: Policy) -> ColumnElement[str | None]:
    c = CandidateRow
    other = aliased(OutreachRow)
    whens: list[tuple[ColumnElement[bool], str]] = [
        (c.do_not_contact.is_(True), Exclusion.DO_NOT_CONTACT.value),
        # `contactable` folds rules 3 and 4; do-not-contact is taken above.
        (not_(c.contactable), Exclusion.EMAIL_UNUSABLE.value),
        (
            and_(c.consent_expires_at.is_not(None), c.consent_expires_at <= at),
            Exclusion.CONSENT_EXPIRED.value,
        ),
        (c.last_activity_at.is_(None), Exclusion.NO_ACTIVITY.value),
        # inactive_days < min  <=>  last_activity_at > T - min days (negative days included)
        (
            c.last_activity_at > days_before(at, policy.min_inactive_days),
            Exclusion.NOT_DORMANT_ENOUGH.value,
        ),
        # inactive_days > max  <=>  last_activity_at <= T - (max + 1) days
        (
            c.last_activity_at <= days_before(at, policy.max_inactive_days + 1),
            Exclusion.INACTIVE_TOO_LONG.value,
        ),
    ]
    required = sorted(credential_keys(job.required_credentials))
    if required:
        cc = aliased(CandidateCredentialRow)
        holders = (
            select(cc.candidate_id)
            .where(cc.tenant_id == job.tenant_id, cc.credential.in_(required))
            .group_by(cc.candidate_id)
            .having(func.count() == len(required))
        )
        whens.append((c.candidate_id.not_in(holders), Exclusion.MISSING_CREDENTIALS.value))
    whens.append(
        (
            exists().where(
                other.tenant_id == c.tenant_id,
                other.candidate_id == c.candidate_id,
                other.job_id != job.job_id,
                other.requested_at > days_before(at, policy.cooldown_days),
                other.requested_at < days_after(at, policy.cooldown_days),
            ),
            Exclusion.COOLDOWN.value,
        )
    )
    return case(*whens, else_=None)
