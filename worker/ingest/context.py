"""What every handler needs besides the connection: policy, topics, and a place for effects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from worker.ingest.outreach_messages import cancelled_message, requested_message
from worker.outbox.writer import OutboxMessage, append
from worker.rules.cancellation import CancellationReason
from worker.rules.model import Candidate, Job, Policy
from worker.store.matcher import Requested
from worker.store.outreach import OutreachRef


@dataclass(frozen=True, slots=True)
class IngestConfig:
    policy: Policy
    outreach_topic: str
    event_source: str
    # How long a candidate snapshot's processed marker is kept (dedupe.py); None: for good.
    dedupe_retention: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the event that led to a decision sits, so its log line can say so."""

    topic: str
    partition: int
    offset: int
    event_id: str


@dataclass(frozen=True, slots=True)
class Decision:
    """One outreach requested or cancelled, by ids: logged once the batch commits (logging
    inside the transaction would report what a rollback may undo)."""

    what: str
    tenant_id: str
    job_id: str
    outreach_id: str
    origin: Origin | None
    reason: str | None = None
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class EmptyWindow:
    """A job whose inactivity window, after its overrides, holds no day: it can match nobody.

    Kept, not dead-lettered: the event is valid, only this deployment's defaults make the
    window empty (a job giving min_inactive_days 500 where the default max is 450). Logged
    once the batch commits, so the operator sees why the job requested no one."""

    tenant_id: str
    job_id: str
    min_inactive_days: int
    max_inactive_days: int
    origin: Origin | None


@dataclass(slots=True)
class Effects:
    """What one batch did, for metrics and logs."""

    requested: int = 0
    cancelled: Counter[str] = field(default_factory=Counter)
    decisions: list[Decision] = field(default_factory=list)
    empty_windows: list[EmptyWindow] = field(default_factory=list)


@dataclass(slots=True)
class HandlerContext:
    connection: Connection
    config: IngestConfig
    # Outbox rows' created_at: bookkeeping for the backlog-age gauge, not a decision input.
    written_at: datetime
    effects: Effects = field(default_factory=Effects)
    # The event being handled: set by the batch before each handler runs.
    origin: Origin | None = None

    def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Appended at once, not at the end of the batch: a later erasure in the same batch
        must find (and delete) the personal data these rows carry."""
        append(self.connection, messages, self.written_at)

    def request(
        self, requested: Sequence[Requested], candidates: Mapping[str, Candidate], job: Job
    ) -> None:
        """Outbox rows for outreach the matcher just claimed (candidates by id)."""
        self.publish(
            [
                requested_message(
                    r,
                    candidates[r.candidate_id],
                    job,
                    topic=self.config.outreach_topic,
                    source=self.config.event_source,
                )
                for r in requested
            ]
        )
        self.effects.requested += len(requested)
        self.effects.decisions += [
            Decision(
                "outreach requested", r.tenant_id, r.job_id, r.outreach_id, self.origin, rank=r.rank
            )
            for r in requested
        ]

    def cancel(self, refs: Sequence[OutreachRef], reason: CancellationReason, at: datetime) -> None:
        if not refs:
            return  # a close with nothing pending: no zero count, no log line, no empty series
        self.publish(
            [
                cancelled_message(
                    ref,
                    reason,
                    at,
                    topic=self.config.outreach_topic,
                    source=self.config.event_source,
                )
                for ref in refs
            ]
        )
        self.effects.cancelled[reason.value] += len(refs)
        self.effects.decisions += [
            Decision(
                "outreach cancelled",
                ref.tenant_id,
                ref.job_id,
                ref.outreach_id,
                self.origin,
                reason=reason.value,
            )
            for ref in refs
        ]
