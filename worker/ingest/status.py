"""The mailer's reports on `reengage.outreach.status` close the loop.

`sent`: the outreach can no longer be cancelled. `failed` with `bounced` or `rejected`: the
candidate's current address is unusable, for them and for every other candidate of the tenant
holding it (suppression.py), so none of them is matched again with it and their pending
outreach is cancelled. Other outcomes change nothing but the outreach's status.

A report is applied only to the outreach that has every id it names (outreach, tenant,
candidate, job). A bounce suppresses an address only when its `outreach_id` is the one the
contract derives from the tenant, job and candidate it names: a report naming another
tenant's outreach, or pairing an outreach with someone else's candidate, suppresses nothing.
That is decided from the report and its own tenant's store only: whether another tenant
holds that id must not change what happens in this one. (Within the tenant, two pairs can
derive one id, ids holding "/": a report naming the pair that does not hold it is refused.)
So a bounce for an outreach the store does not hold (yet: a replay may read the status topic
before the jobs topic has rebuilt it) still suppresses the address of the candidate it names
in its own tenant.
"""

from __future__ import annotations

from datetime import datetime

from worker.contracts.outreach import outreach_id
from worker.contracts.status import OutreachFailed, OutreachSent
from worker.ingest.context import HandlerContext
from worker.rules.cancellation import CancellationReason
from worker.store.outreach import (
    OutreachRef,
    cancel_pending,
    held_for_another_pair,
    mark_failed,
    mark_sent,
)
from worker.store.suppression import suppress_email

_ADDRESS_FAILURES = frozenset({"bounced", "rejected"})


def outreach_sent(ctx: HandlerContext, data: OutreachSent) -> None:
    mark_sent(ctx.connection, _named(data), data.sent_at)


def outreach_failed(ctx: HandlerContext, data: OutreachFailed, at: datetime) -> None:
    named = _named(data)
    mark_failed(ctx.connection, named, at)
    # A bounce often comes after `sent` (the row no longer changes): the address is still bad.
    if data.reason not in _ADDRESS_FAILURES or not _names_its_own_outreach(data):
        return
    if held_for_another_pair(ctx.connection, named):
        return
    reason = CancellationReason.EMAIL_UNUSABLE
    for holder in suppress_email(ctx.connection, data.tenant_id, data.candidate_id):
        refs = cancel_pending(ctx.connection, data.tenant_id, reason, at, candidate_id=holder)
        ctx.cancel(refs, reason, at)


def _names_its_own_outreach(data: OutreachFailed) -> bool:
    derived = outreach_id(data.tenant_id, data.job_id, data.candidate_id)
    return data.outreach_id == derived


def _named(data: OutreachSent | OutreachFailed) -> OutreachRef:
    return OutreachRef(data.outreach_id, data.tenant_id, data.job_id, data.candidate_id)
