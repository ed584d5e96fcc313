"""`data` of the events the worker publishes on `reengage.outreach`.

Every field is always present in what the worker writes (null where it has no value), so
consumers can rely on the keys; the schemas mark them all required.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self
from uuid import UUID, uuid5

from pydantic import Field, StrictInt, model_validator

from worker.contracts.base import ContractModel
from worker.contracts.fields import (
    Count,
    Credential,
    Email,
    EntityId,
    OptionalHttpUrl,
    OptionalLocation,
    OptionalName,
    OutreachId,
    TenantId,
    Timestamp,
    Title,
    Trimmed,
)

OUTREACH_NAMESPACE = UUID("c7d2887b-df6a-55c3-8e79-53aa763e879f")


def outreach_id(tenant_id: str, job_id: str, candidate_id: str) -> str:
    """Stable across restarts, replays and redeployments: consumers deduplicate on it."""
    return str(uuid5(OUTREACH_NAMESPACE, f"{tenant_id}/{job_id}/{candidate_id}"))


def _refuse_unless_derived(given: str, tenant_id: str, job_id: str, candidate_id: str) -> None:
    if given != outreach_id(tenant_id, job_id, candidate_id):
        raise ValueError(
            "outreach_id is not the one derived from tenant_id, job_id and candidate_id"
        )


CancelReason = Literal[
    "job_closed", "do_not_contact", "email_unusable", "consent_expired", "erased"
]
Trigger = Literal["job.opened", "candidate.updated"]


class OutreachJob(ContractModel):
    """The job the candidate is contacted about."""

    job_id: EntityId
    title: Title
    apply_url: OptionalHttpUrl
    location: OptionalLocation


class OutreachCandidate(ContractModel):
    """Who to contact. Personal data: consumers must not log it."""

    candidate_id: EntityId
    email: Email = Field(description="The address to write to, as the ATS gave it.")
    first_name: OptionalName
    last_name: OptionalName


class PreviousApplication(ContractModel):
    """The candidate's most recent past application (by `applied_at`)."""

    job_id: EntityId
    job_title: Title
    applied_at: Timestamp


class OutreachReason(ContractModel):
    """Why this candidate was chosen for this job."""

    matched_credentials: Annotated[tuple[Credential, ...], Field(max_length=50)] = Field(
        description="The job's required credentials the candidate has, in the job's spelling."
    )
    matched_preferred_credentials: Annotated[tuple[Credential, ...], Field(max_length=50)] = Field(
        description="The job's preferred credentials the candidate has, in the job's spelling; "
        "one longer than 100 characters is shortened to 100, ending with an ellipsis."
    )
    last_activity_at: Timestamp
    inactive_days: Annotated[Count, Field(le=3650)] = Field(
        description="Whole days between last_activity_at and the reference time."
    )
    previous_application: PreviousApplication | None
    summary: Annotated[str, Trimmed(1000)] = Field(
        description="One plain sentence telling the candidate why they are contacted. Names "
        "fewer credentials ('SQL and 4 more') when naming them all would make it too long."
    )


class OutreachRequested(ContractModel):
    """The worker asks a mailer to contact one candidate about one job. Published at least
    once, always with the same outreach_id and the same content."""

    outreach_id: OutreachId
    tenant_id: TenantId
    job: OutreachJob
    candidate: OutreachCandidate
    reason: OutreachReason
    rank: Annotated[StrictInt, Field(ge=1, le=10000)] = Field(
        description="1-based position among this job's outreach."
    )
    trigger: Trigger
    requested_at: Timestamp = Field(description="The reference time used for the decision.")

    # A mailer keys its ledger by outreach_id: one that does not belong to the tenant, job and
    # candidate named beside it could stand for another tenant's outreach (send in its place,
    # or mark it done) however the ledger is keyed, so it is refused at the edge.
    @model_validator(mode="after")
    def _id_is_derived(self) -> Self:
        ids = (self.tenant_id, self.job.job_id, self.candidate.candidate_id)
        _refuse_unless_derived(self.outreach_id, *ids)
        return self


class OutreachCancelled(ContractModel):
    """Outreach requested and not yet reported sent must not be sent any more."""

    outreach_id: OutreachId
    tenant_id: TenantId
    job_id: EntityId
    candidate_id: EntityId
    reason: CancelReason
    cancelled_at: Timestamp

    @model_validator(mode="after")
    def _id_is_derived(self) -> Self:
        _refuse_unless_derived(self.outreach_id, self.tenant_id, self.job_id, self.candidate_id)
        return self
