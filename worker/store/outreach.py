"""Outreach rows: their ids, the mailer's status reports, and which ones to cancel.

Cancelling is a conditional update (the status in the WHERE), so an outreach the mailer
already reported sent is never reported cancelled, whatever runs concurrently. One it reported
`failed` is "not yet reported sent" (the rules' words) and is cancelled too, once: the mailer,
having given up, ignores the cancellation, and every reader of the topic learns the outreach is
over. Its row keeps status `failed` (what happened to it) and records the `cancel_reason`. A
cancelled outreach stays: it still counts for rules 8, 9 and the cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, literal, not_, or_, select, update
from sqlalchemy.engine import Connection

from worker.rules.cancellation import CancellationReason
from worker.rules.model import PastOutreach
from worker.store.schema import OutreachRow, OutreachStatus

_CHUNK = 500
_REQUESTED = OutreachStatus.REQUESTED.value


def _cancellable() -> ColumnElement[bool]:
    """Requested, or reported failed and not cancelled yet."""
    return or_(
        OutreachRow.status == _REQUESTED,
        and_(
            OutreachRow.status == OutreachStatus.FAILED.value,
            OutreachRow.cancel_reason.is_(None),
        ),
    )


@dataclass(frozen=True, slots=True)
class OutreachRef:
    """Which outreach: enough to publish `reengage.outreach.cancelled`."""

    outreach_id: str
    tenant_id: str
    job_id: str
    candidate_id: str


def cancel_pending(
    connection: Connection,
    tenant_id: str,
    reason: CancellationReason,
    cancelled_at: datetime,
    *,
    job_id: str | None = None,
    candidate_id: str | None = None,
) -> list[OutreachRef]:
    """Cancel the outreach requested and not yet reported sent, for a job or a candidate (or
    the pair); return what was cancelled, ordered by candidate then job."""
    if job_id is None and candidate_id is None:
        raise ValueError("cancel_pending needs a job_id or a candidate_id")
    statement = (
        update(OutreachRow)
        .where(
            OutreachRow.tenant_id == tenant_id,
            _cancellable(),
        )
        .values(
            status=case(
                (OutreachRow.status == _REQUESTED, OutreachStatus.CANCELLED.value),
                else_=OutreachRow.status,
            ),
            status_at=case(
                (
                    OutreachRow.status == _REQUESTED,
                    literal(cancelled_at, type_=OutreachRow.status_at.type),
                ),
                else_=OutreachRow.status_at,
            ),
            cancel_reason=reason.value,
        )
        .returning(
            OutreachRow.outreach_id,
            OutreachRow.tenant_id,
            OutreachRow.job_id,
            OutreachRow.candidate_id,
        )
    )
    if job_id is not None:
        statement = statement.where(OutreachRow.job_id == job_id)
    if candidate_id is not None:
        statement = statement.where(OutreachRow.candidate_id == candidate_id)
    refs = [OutreachRef(*row) for row in connection.execute(statement)]
    return sorted(refs, key=lambda r: (r.candidate_id.encode(), r.job_id.encode()))


def candidates_with_pending(
    connection: Connection, tenant_id: str, candidate_ids: Iterable[str]
) -> set[str]:
    """Of these candidates, those with outreach `cancel_pending` would cancel (not yet
    reported sent): one query for a batch instead of one update per candidate."""
    wanted = sorted(set(candidate_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        rows = connection.execute(
            select(OutreachRow.candidate_id)
            .distinct()
            .where(
                OutreachRow.tenant_id == tenant_id,
                _cancellable(),
                OutreachRow.candidate_id.in_(wanted[start : start + _CHUNK]),
            )
        )
        found.update(rows.scalars())
    return found


def _named_by(ref: OutreachRef) -> ColumnElement[bool]:
    """The outreach row a report names, matched on every id the report carries: an id from
    another tenant, or for another candidate or job, matches nothing."""
    return and_(
        OutreachRow.outreach_id == ref.outreach_id,
        OutreachRow.tenant_id == ref.tenant_id,
        OutreachRow.candidate_id == ref.candidate_id,
        OutreachRow.job_id == ref.job_id,
    )


def mark_sent(connection: Connection, ref: OutreachRef, sent_at: datetime) -> bool:
    """The mailer sent it: it can no longer be cancelled. (A send that raced a cancellation
    still happened, so `sent` overrides `cancelled`.) False for an unknown outreach."""
    result = connection.execute(
        update(OutreachRow)
        .where(_named_by(ref), OutreachRow.status != OutreachStatus.SENT.value)
        .values(status=OutreachStatus.SENT.value, status_at=sent_at)
    )
    return result.rowcount > 0


def mark_failed(connection: Connection, ref: OutreachRef, failed_at: datetime) -> bool:
    """The mailer gave up on it. Only a still-requested outreach changes."""
    result = connection.execute(
        update(OutreachRow)
        .where(_named_by(ref), OutreachRow.status == _REQUESTED)
        .values(status=OutreachStatus.FAILED.value, status_at=failed_at)
    )
    return result.rowcount > 0


def held_for_another_pair(connection: Connection, ref: OutreachRef) -> bool:
    """Whether this tenant holds the outreach id for another job or candidate than `ref`
    names: two pairs can derive one id (ids may contain "/"), and a report naming the pair
    that does not hold it is not about anything this tenant sent. Only the report's own
    tenant is read: what other tenants hold never changes the answer."""
    found = connection.execute(
        select(OutreachRow.outreach_id)
        .where(
            OutreachRow.outreach_id == ref.outreach_id,
            OutreachRow.tenant_id == ref.tenant_id,
            not_(_named_by(ref)),
        )
        .limit(1)
    )
    return found.first() is not None


def past_outreach(
    connection: Connection, tenant_id: str, candidate_ids: Iterable[str] | None = None
) -> list[PastOutreach]:
    """The tenant's outreach (every status), optionally for some candidates only: what the
    reference rules take as `past_outreach`."""
    base = select(
        OutreachRow.tenant_id,
        OutreachRow.job_id,
        OutreachRow.candidate_id,
        OutreachRow.requested_at,
    ).where(OutreachRow.tenant_id == tenant_id)
    if candidate_ids is None:
        return [PastOutreach(*row) for row in connection.execute(base)]
    wanted: Sequence[str] = sorted(set(candidate_ids))
    found: list[PastOutreach] = []
    for start in range(0, len(wanted), _CHUNK):
        statement = base.where(OutreachRow.candidate_id.in_(wanted[start : start + _CHUNK]))
        found.extend(PastOutreach(*row) for row in connection.execute(statement))
    return found
