"""What the mailer tells the worker: a final ledger row as a `reengage.outreach.status` event.

Built only from the ledger row, so a row published twice (after a crash, or for a redelivered
request) gives the same event id and the same bytes: the worker's dedupe absorbs the repeat.
"""

from __future__ import annotations

from typing import cast

from worker.contracts.encode import (
    MAILER_SOURCE,
    OutgoingMessage,
    outreach_failed,
    outreach_sent,
    outreach_skipped,
)
from worker.contracts.envelope import STRUCTURED_CONTENT_TYPE
from worker.contracts.status import (
    FailReason,
    OutreachFailed,
    OutreachSent,
    OutreachSkipped,
    SkipReason,
)
from worker.kafka.producer import Outgoing
from worker.mailer.ledger import LedgerEntry, MailState

_HEADERS = (("content-type", STRUCTURED_CONTENT_TYPE.encode()),)


def status_event(entry: LedgerEntry, *, source: str = MAILER_SOURCE) -> OutgoingMessage:
    """The event for a row in a final state (sent, skipped, failed)."""
    key = entry.key
    at = entry.finished_at
    if at is None or not entry.is_final:
        raise ValueError(f"outreach {key.outreach_id} is not finished ({entry.state})")
    if entry.state is MailState.SENT:
        sent = OutreachSent(
            outreach_id=key.outreach_id,
            tenant_id=key.tenant_id,
            candidate_id=key.candidate_id,
            job_id=key.job_id,
            sent_at=at,
            message_id=entry.message_id or "",
        )
        return outreach_sent(sent, source=source)
    if entry.state is MailState.SKIPPED:
        skipped = OutreachSkipped(
            outreach_id=key.outreach_id,
            tenant_id=key.tenant_id,
            candidate_id=key.candidate_id,
            job_id=key.job_id,
            reason=cast(SkipReason, entry.reason),
        )
        return outreach_skipped(skipped, time=at, source=source)
    failed = OutreachFailed(
        outreach_id=key.outreach_id,
        tenant_id=key.tenant_id,
        candidate_id=key.candidate_id,
        job_id=key.job_id,
        reason=cast(FailReason, entry.reason),
        detail=entry.detail or "",
    )
    return outreach_failed(failed, time=at, source=source)


def to_outgoing(message: OutgoingMessage, topic: str) -> Outgoing:
    return Outgoing(topic, message.key, message.value, _HEADERS)
