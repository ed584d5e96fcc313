"""`data` of the events the ATS publishes: jobs opened and closed, candidates updated and erased.

Fields the spec marks optional have defaults here; unknown fields are ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, model_validator

from worker.contracts.base import ContractModel
from worker.contracts.fields import (
    Credential,
    EntityId,
    Flag,
    NullMeansEmpty,
    OptionalEmail,
    OptionalHttpUrl,
    OptionalLocation,
    OptionalName,
    OptionalTrimmed,
    PreferredCredential,
    TenantId,
    Timestamp,
    Title,
    Trimmed,
)

InactiveDays = Annotated[StrictInt, Field(ge=0, le=3650)]


def _without_blanks(credentials: tuple[str, ...]) -> tuple[str, ...]:
    # The spec puts no limit on a preferred credential, so "" is valid; it names nothing,
    # and dead-lettering the job for it would help nobody.
    return tuple(credential for credential in credentials if credential)


class JobPolicy(ContractModel):
    """Per-job overrides of the deployment's matching policy. A field left out or null falls
    back to the deployment's setting."""

    min_inactive_days: InactiveDays | None = Field(
        default=None, description="Dormant for at least this many days (0-3650)."
    )
    max_inactive_days: InactiveDays | None = Field(
        default=None,
        description="Dormant for at most this many days (0-3650, at least min_inactive_days "
        "when both are given).",
    )
    max_outreach: Annotated[StrictInt, Field(ge=0, le=10000)] | None = Field(
        default=None, description="At most this many outreach requests for the job (0-10000)."
    )

    @model_validator(mode="after")
    def _window_is_ordered(self) -> JobPolicy:
        if (
            self.min_inactive_days is not None
            and self.max_inactive_days is not None
            and self.max_inactive_days < self.min_inactive_days
        ):
            raise ValueError("max_inactive_days must be at least min_inactive_days")
        return self


class JobOpened(ContractModel):
    """A job opened (or was republished, or reopened): it is matched against the candidate pool
    at `opened_at`."""

    tenant_id: TenantId
    job_id: EntityId
    title: Title
    required_credentials: Annotated[tuple[Credential, ...], Field(max_length=50)] = Field(
        description="A candidate needs all of them. Required (an empty array means none)."
    )
    preferred_credentials: Annotated[
        tuple[PreferredCredential, ...],
        Field(max_length=50),
        AfterValidator(_without_blanks),
        NullMeansEmpty(),
    ] = Field(
        default=(),
        description="Used for ranking. Omitted or null means none. Any length; blank ones "
        "are ignored.",
    )
    location: OptionalLocation = None
    apply_url: OptionalHttpUrl = Field(default=None, description="http(s) URL, at most 2048.")
    opened_at: Timestamp = Field(description="The reference time for this job's matching.")
    policy: JobPolicy | None = Field(default=None, description="Optional per-job overrides.")


class JobClosed(ContractModel):
    """A job closed: it stops matching, and outreach not yet sent is cancelled."""

    tenant_id: TenantId
    job_id: EntityId
    closed_at: Timestamp


EmailStatusName = Literal["unknown", "valid", "bounced", "invalid"]


class Application(ContractModel):
    """One past application of the candidate, used to explain the outreach."""

    job_id: EntityId
    # No length limits here, not even a least one: the contract gives none, and refusing a
    # snapshot for a long or blank past title would lose what else it says (a do-not-contact,
    # a new address). An outreach names the title shortened to 300 characters, and never an
    # application with a blank one (worker/rules/reason.py).
    job_title: Annotated[str, Trimmed(None, min_length=0)]
    applied_at: Timestamp
    status: Annotated[str | None, OptionalTrimmed(None)] = Field(
        default=None, description="The ATS's own status word (e.g. rejected, withdrawn)."
    )


class CandidateUpdated(ContractModel):
    """A full snapshot of the candidate as the ATS sees it, not a patch. A snapshot whose
    `updated_at` is older than the stored one is stale and ignored."""

    tenant_id: TenantId
    candidate_id: EntityId
    email: OptionalEmail = Field(
        default=None,
        description="Stored as given; a syntactically invalid address is not an error, the "
        "candidate is stored and is never eligible.",
    )
    first_name: OptionalName = None
    last_name: OptionalName = None
    credentials: Annotated[tuple[Credential, ...], Field(max_length=200), NullMeansEmpty()] = Field(
        default=(), description="Skills, certifications, licences, as spelled in the ATS."
    )
    location: OptionalLocation = None
    last_activity_at: Timestamp | None = Field(
        default=None,
        description="Last time the candidate did something in the ATS (applied, replied, "
        "interviewed).",
    )
    do_not_contact: Flag = False
    email_status: EmailStatusName = "unknown"
    consent_expires_at: Timestamp | None = Field(
        default=None, description="Contact consent ends then."
    )
    applications: Annotated[tuple[Application, ...], Field(max_length=100), NullMeansEmpty()] = (
        Field(default=(), description="Past applications. Omitted or null means none.")
    )
    updated_at: Timestamp = Field(description="The snapshot's version.")


class CandidateErased(ContractModel):
    """The candidate's personal data must be deleted; later snapshots with `updated_at` at or
    before `erased_at` are ignored."""

    tenant_id: TenantId
    candidate_id: EntityId
    erased_at: Timestamp
