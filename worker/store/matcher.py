"""The matcher: REENGAGEMENT.md's rules, ranking and cap, evaluated in the database.

One query ranks the eligible candidates of a job at a reference time T and returns only as
many as the cap leaves room for; nothing loads the tenant's pool into Python. The rules in SQL
mirror `worker.rules.eligibility` (the tests compare this matcher with
`worker.rules.reference.reference_match`):

1. tenant            `candidates.tenant_id = job's tenant`
2. job open          the stored job: opened at or before T, not closed since
3, 4. contactable    the stored `contactable` column (do-not-contact, email usable)
5. consent           `consent_expires_at IS NULL OR consent_expires_at > T`
6. dormancy          min <= floor((T - last_activity_at) / 1 day) <= max, as the range
                     T - (max + 1) days < last_activity_at <= T - min days (exact for whole
                     days, and a range on the partial index's second column)
7. credentials       the candidate holds every normalised required credential
8. once per job      no outreach row for (job, candidate)
9. cooldown          no outreach for the candidate with requested_at in
                     (T - cooldown, T + cooldown): both sides, so a decision taken out of
                     event-time order (a lagging worker) cannot contact a candidate another
                     worker already requested for a later job (`cooldown_blocker`)

Claims are atomic under concurrency. The job's row is locked first (`SELECT ... FOR UPDATE`),
so decisions for one job are serialised and the cap counts every committed request. Then the
chosen candidates' rows are locked in id order, and rules are checked again in a new
statement: under READ COMMITTED that statement sees every outreach committed before the locks
were granted, and no other process can add outreach for a locked candidate until this
transaction ends, because every claim takes the same lock. So two processes matching two jobs
at once never both contact one candidate inside the cooldown. On SQLite the transaction holds
the database's write lock from BEGIN IMMEDIATE, which serialises claims outright.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from worker.contracts.outreach import outreach_id
from worker.logs import get_logger
from worker.rules.days import days_after, days_before
from worker.rules.eligibility import effective_policy, first_failing_rule
from worker.rules.model import Candidate, Job, Policy
from worker.rules.ranking import remaining_capacity
from worker.store.columns import MICROS_PER_DAY, to_micros
from worker.store.credential_keys import credential_keys
from worker.store.dialect import is_postgresql
from worker.store.jobs import load_job, open_clause
from worker.store.schema import (
    CandidateCredentialRow,
    CandidateRow,
    JobRow,
    OutreachRow,
    OutreachStatus,
)

log = get_logger("reengage.matcher")

_SEMI_JOINED_CREDENTIALS = 3
_CONTACTABLE: ColumnElement[bool] = literal_column("candidates.contactable")


class Trigger(StrEnum):
    JOB_OPENED = "job.opened"
    CANDIDATE_UPDATED = "candidate.updated"


@dataclass(frozen=True, slots=True)
class Ranked:
    """An eligible candidate and the two facts it is ranked by."""

    candidate_id: str
    preferred_matched: int
    inactive_days: int


@dataclass(frozen=True, slots=True)
class Requested:
    """An outreach row this match wrote: what the handler turns into an event."""

    outreach_id: str
    tenant_id: str
    job_id: str
    candidate_id: str
    rank: int
    trigger: Trigger
    requested_at: datetime
    preferred_matched: int
    inactive_days: int


def eligible_conditions(
    job: Job, at: datetime, policy: Policy, candidate_ids: Sequence[str] | None = None
) -> list[ColumnElement[bool]]:
    """Rules 1-9 as SQL conditions on `candidates`, one element per rule (see module doc)."""
    c = CandidateRow
    outreach = aliased(OutreachRow)
    conditions: list[ColumnElement[bool]] = [
        c.tenant_id == job.tenant_id,
        exists().where(
            JobRow.tenant_id == job.tenant_id,
            JobRow.job_id == job.job_id,
            JobRow.opened_at <= at,
            open_clause(),
        ),
        # Spelled exactly as the partial index's predicate, or the index does not qualify:
        # SQLAlchemy renders a Boolean column as `contactable = 1` on SQLite.
        _CONTACTABLE,
        or_(c.consent_expires_at.is_(None), c.consent_expires_at > at),
        and_(
            c.last_activity_at > days_before(at, policy.max_inactive_days + 1),
            c.last_activity_at <= days_before(at, policy.min_inactive_days),
        ),
    ]
    required = sorted(credential_keys(job.required_credentials))
    if required:
        conditions.extend(_holds_all(required))
    conditions.append(
        ~exists().where(
            outreach.tenant_id == job.tenant_id,
            outreach.job_id == job.job_id,
            outreach.candidate_id == c.candidate_id,
        )
    )
    conditions.append(
        ~exists().where(
            outreach.tenant_id == c.tenant_id,
            outreach.candidate_id == c.candidate_id,
            outreach.requested_at > days_before(at, policy.cooldown_days),
            outreach.requested_at < days_after(at, policy.cooldown_days),
        )
    )
    if candidate_ids is not None:
        conditions.append(c.candidate_id.in_(list(candidate_ids)))
    return conditions


def _holds_all(required: Sequence[str]) -> list[ColumnElement[bool]]:
    """Rule 7: the candidate holds every required (normalised) credential.

    One semi-join per credential for the first few: PostgreSQL merges those credentials'
    posting lists (ix_candidate_credentials_lookup, already in candidate order) when they are
    selective, or probes the primary key per candidate when the dormancy range is the smaller
    set; SQLite probes per candidate. Each semi-join is a relation the planner must place, and
    planning time grows steeply with their number (about 0.7 s for 50 on PostgreSQL), so beyond
    the first few the rest are checked together, by counting, for the candidates that remain.
    """
    c = CandidateRow
    conditions: list[ColumnElement[bool]] = []
    for credential in required[:_SEMI_JOINED_CREDENTIALS]:
        held = aliased(CandidateCredentialRow)
        conditions.append(
            exists().where(
                held.tenant_id == c.tenant_id,
                held.candidate_id == c.candidate_id,
                held.credential == credential,
            )
        )
    if len(required) > _SEMI_JOINED_CREDENTIALS:
        held = aliased(CandidateCredentialRow)
        held_count: ColumnElement[int] = (
            select(func.count())
            .where(
                held.tenant_id == c.tenant_id,
                held.candidate_id == c.candidate_id,
                held.credential.in_(list(required)),
            )
            .scalar_subquery()
        )
        conditions.append(held_count == len(required))
    return conditions


def ranked_query(
    job: Job, at: datetime, policy: Policy, candidate_ids: Sequence[str] | None = None
) -> Select[str, int, int]:
    """The eligible candidates in ranking order: preferred credentials matched (desc),
    inactive days (asc), candidate id (byte order). `policy` is the effective one."""
    c = CandidateRow
    preferred = sorted(credential_keys(job.preferred_credentials))
    if preferred:
        cc = aliased(CandidateCredentialRow)
        matched: ColumnElement[int] = (
            select(func.count())
            .where(
                cc.tenant_id == c.tenant_id,
                cc.candidate_id == c.candidate_id,
                cc.credential.in_(preferred),
            )
            .scalar_subquery()
        )
    else:
        matched = literal(0, Integer)
    # Integer division of non-negative microseconds: floor, identically on both databases.
    elapsed = cast(literal(to_micros(at)), BigInteger) - c.last_activity_at
    inactive = elapsed.self_group().op("/", return_type=Integer)(
        cast(literal(MICROS_PER_DAY), BigInteger)
    )
    preferred_matched = matched.label("preferred_matched")
    inactive_days = inactive.label("inactive_days")
    return (
        select(c.candidate_id, preferred_matched, inactive_days)
        .where(*eligible_conditions(job, at, policy, candidate_ids))
        .order_by(preferred_matched.desc(), inactive_days.asc(), c.candidate_id.asc())
    )


def ranked_candidates(
    connection: Connection, job: Job, at: datetime, policy: Policy, limit: int | None = None
) -> Iterator[Ranked]:
    """Stream the eligible candidates in ranking order (read-only; for `preview`)."""
    statement = ranked_query(job, at, policy)
    if limit is not None:
        statement = statement.limit(limit)
    for row in connection.execute(statement.execution_options(yield_per=500)):
        yield Ranked(row.candidate_id, row.preferred_matched, row.inactive_days)


def requests_for_job(connection: Connection, tenant_id: str, job_id: str) -> int:
    """Outreach requested for the job so far, every status: what the cap counts."""
    statement = select(func.count()).where(
        OutreachRow.tenant_id == tenant_id, OutreachRow.job_id == job_id
    )
    return int(connection.execute(statement).scalar_one())


def match_job(
    connection: Connection,
    tenant_id: str,
    job_id: str,
    defaults: Policy,
    *,
    at: datetime | None = None,
    trigger: Trigger = Trigger.JOB_OPENED,
    only_candidate: str | None = None,
) -> list[Requested]:
    """Decide and write the job's outreach at `at` (default: the job's `opened_at`).

    `defaults` is the deployment's policy; the job's own overrides are applied here.
    `only_candidate` restricts the pool to one candidate (reverse matching). Runs inside the
    caller's transaction and returns the rows written, in rank order.
    """
    job = load_job(connection, tenant_id, job_id, for_update=True)
    if job is None:
        return []
    at = job.opened_at if at is None else at
    policy = effective_policy(job, defaults)
    only = None if only_candidate is None else [only_candidate]
    return _claim(connection, job, at, policy, trigger=trigger, only=only)


def reverse_match(
    connection: Connection,
    candidate: Candidate,
    at: datetime,
    defaults: Policy,
    jobs: Sequence[Job],
) -> list[tuple[Job, list[Requested]]]:
    """After storing a candidate snapshot (T = its `updated_at`): evaluate the candidate
    against each of `jobs`, the tenant's open jobs opened in [T - window, T] oldest first
    (`jobs_opened_between`; a caller may share one query between many snapshots). The pure
    rules first screen out jobs the candidate cannot pass whatever the outreach history says,
    without a query; the database then decides, and claims, for the rest. Per job evaluated,
    the outreach it requested (none when cooldown or cap said no)."""
    results: list[tuple[Job, list[Requested]]] = []
    for job in jobs:
        if first_failing_rule(candidate, job, at, effective_policy(job, defaults), ()):
            continue
        requested = match_job(
            connection,
            candidate.tenant_id,
            job.job_id,
            defaults,
            at=at,
            trigger=Trigger.CANDIDATE_UPDATED,
            only_candidate=candidate.candidate_id,
        )
        results.append((job, requested))
    return results


def _claim(
    connection: Connection,
    job: Job,
    at: datetime,
    policy: Policy,
    *,
    trigger: Trigger,
    only: Sequence[str] | None,
) -> list[Requested]:
    so_far = requests_for_job(connection, job.tenant_id, job.job_id)
    room = remaining_capacity(so_far, policy.max_outreach)
    requested: list[Requested] = []
    refused: set[str] = set()
    while room > 0:
        # Ask for the refused ones again too: they are still ranked, just not claimable.
        limit = room + len(refused)
        ranked = [
            Ranked(row.candidate_id, row.preferred_matched, row.inactive_days)
            for row in connection.execute(ranked_query(job, at, policy, only).limit(limit))
        ]
        fresh = [r for r in ranked if r.candidate_id not in refused][:room]
        if not fresh:
            break
        confirmed = _lock_and_recheck(connection, job, at, policy, [r.candidate_id for r in fresh])
        ids = {
            r.candidate_id: outreach_id(job.tenant_id, job.job_id, r.candidate_id)
            for r in fresh
            if r.candidate_id in confirmed
        }
        held = _ids_held(connection, list(ids.values()))
        batch: list[Requested] = []
        for candidate in fresh:
            if candidate.candidate_id not in confirmed:
                # Another process claimed it (or changed it) since the ranking query ran.
                refused.add(candidate.candidate_id)
                continue
            id_ = ids[candidate.candidate_id]
            if id_ in held:
                # The contract's id names "{tenant}/{job}/{candidate}", and ids may hold "/":
                # (J, x/C) and (J/x, C) get one id. The pair claimed first keeps it; this one
                # is skipped rather than failing the whole job for everyone else.
                refused.add(candidate.candidate_id)
                log.warning(
                    "outreach id already taken by another job's outreach; candidate skipped",
                    tenant_id=job.tenant_id,
                    job_id=job.job_id,
                    outreach_id=id_,
                )
                continue
            rank = so_far + len(batch) + 1
            batch.append(_requested(job, candidate, rank, trigger, at, id_=id_))
        _insert(connection, batch)
        requested += batch
        so_far += len(batch)
        room -= len(batch)
        if len(ranked) < limit:
            break  # the ranking is exhausted
    return requested


def _ids_held(connection: Connection, ids: Sequence[str]) -> set[str]:
    """Of these outreach ids, the ones already held. Candidates that pass every rule have
    no outreach for this job, so a held id is another job's: a collision of names."""
    if not ids:
        return set()
    statement = select(OutreachRow.outreach_id).where(OutreachRow.outreach_id.in_(ids))
    return set(connection.execute(statement).scalars())


def _lock_and_recheck(
    connection: Connection, job: Job, at: datetime, policy: Policy, candidate_ids: list[str]
) -> set[str]:
    """Lock the candidates (id order, so two claims cannot deadlock each other), then return
    those that still pass every rule, in a statement that sees all committed outreach."""
    if is_postgresql(connection):
        connection.execute(
            select(CandidateRow.candidate_id)
            .where(
                CandidateRow.tenant_id == job.tenant_id,
                CandidateRow.candidate_id.in_(candidate_ids),
            )
            .order_by(CandidateRow.candidate_id)
            .with_for_update()
        ).all()
    statement = select(CandidateRow.candidate_id).where(
        *eligible_conditions(job, at, policy, candidate_ids)
    )
    return set(connection.execute(statement).scalars())


def _requested(
    job: Job, candidate: Ranked, rank: int, trigger: Trigger, at: datetime, *, id_: str
) -> Requested:
    return Requested(
        outreach_id=id_,
        tenant_id=job.tenant_id,
        job_id=job.job_id,
        candidate_id=candidate.candidate_id,
        rank=rank,
        trigger=trigger,
        requested_at=at,
        preferred_matched=candidate.preferred_matched,
        inactive_days=candidate.inactive_days,
    )


def _insert(connection: Connection, batch: Sequence[Requested]) -> None:
    if not batch:
        return
    rows: list[dict[str, Any]] = [
        {
            "outreach_id": r.outreach_id,
            "tenant_id": r.tenant_id,
            "job_id": r.job_id,
            "candidate_id": r.candidate_id,
            "rank": r.rank,
            "trigger": r.trigger.value,
            "requested_at": r.requested_at,
            "status": OutreachStatus.REQUESTED.value,
        }
        for r in batch
    ]
    # With RETURNING, SQLAlchemy sends executemany as batched multi-row INSERTs
    # ("insertmanyvalues") from one cached compilation: a round trip per batch, within both
    # databases' parameter limits.
    connection.execute(insert(OutreachRow).returning(OutreachRow.outreach_id), rows).all()
