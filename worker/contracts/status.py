"""`data` of the events a mailer publishes on `reengage.outreach.status`.

The worker reads `failed` (bounced or rejected: the candidate's address becomes unusable) and
`sent` (the outreach can no longer be cancelled).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from worker.contracts.base import ContractModel
from worker.contracts.fields import EntityId, ReportedOutreachId, TenantId, Timestamp, Trimmed

SkipReason = Literal["cancelled", "suppressed", "duplicate"]
FailReason = Literal["bounced", "rejected", "retries_exhausted"]


class OutreachSent(ContractModel):
    """The mailer handed the message to its mail server."""

    outreach_id: ReportedOutreachId
    tenant_id: TenantId
    candidate_id: EntityId
    job_id: EntityId
    sent_at: Timestamp
    # No limits on message_id and detail, not even a least length: the contract gives none,
    # and the worker must not dead-letter a mailer's report over one (a `sent` it would then
    # never apply, and cancel an outreach already sent; a bounce it would never apply).
    message_id: Annotated[str, Trimmed(None, min_length=0)] = Field(
        description="The Message-ID of the email sent."
    )


class OutreachSkipped(ContractModel):
    """The mailer decided not to send. The envelope's `time` says when."""

    outreach_id: ReportedOutreachId
    tenant_id: TenantId
    candidate_id: EntityId
    job_id: EntityId
    reason: SkipReason


class OutreachFailed(ContractModel):
    """Sending failed for good. The envelope's `time` says when."""

    outreach_id: ReportedOutreachId
    tenant_id: TenantId
    candidate_id: EntityId
    job_id: EntityId
    reason: FailReason
    detail: Annotated[str, Trimmed(None, min_length=0)] = Field(
        description="What went wrong, for operators (e.g. the SMTP reply code and text). "
        "Must not contain personal data. The reference mailer writes at most 1000 characters."
    )
