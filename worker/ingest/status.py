"""The mailer's reports on `reengage.outreach.status` close the loop.

`sent`: the outreach can no longer be cancelled. `failed` with `bounced` or `rejected`: the
candidate's current address is unusable, so it is never matched again and their other
pending outreach is cancelled. Other outcomes change nothing but the outreach's status.
"""

from __future__ import annotations

from datetime import datetime

from worker.contracts.status import OutreachFailed, OutreachSent
from worker.ingest.context import HandlerContext
from worker.rules.cancellation import CancellationReason
from worker.store.candidates import suppress_email
from worker.store.outreach import cancel_pending, mark_failed, mark_sent

_ADDRESS_FAILURES = frozenset({"bounced", "rejected"})


def outreach_sent(ctx: HandlerContext, data: OutreachSent) -> None:
    mark_sent(ctx.connection, data.outreach_id, data.sent_at)


def outreach_failed(ctx: HandlerContext, data: OutreachFailed, at: datetime) -> None:
    mark_failed(ctx.connection, data.outreach_id, at)
    if data.reason not in _ADDRESS_FAILURES:
        return
    if suppress_email(ctx.connection, data.tenant_id, data.candidate_id):
        reason = CancellationReason.EMAIL_UNUSABLE
        refs = cancel_pending(
            ctx.connection, data.tenant_id, reason, at, candidate_id=data.candidate_id
        )
        ctx.cancel(refs, reason, at)
