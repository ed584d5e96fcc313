"""The tables. Alembic migrations (worker/store/migrations) create exactly these; a test holds
the two together.

Why the indexes are what they are (the matcher's queries are in matcher.py):

- `ix_candidates_contactable_activity` is a partial index on (tenant_id, last_activity_at) over
  contactable candidates only (rules 3 and 4 folded into the stored `contactable` column). A
  job-opened match is one range scan of it: rule 1 is the leading column, rule 6 is a range on
  the second (`T - (max+1) days < last_activity_at <= T - min days`). Candidates who can never
  be contacted (no or bad email, do-not-contact) are not in it at all.
- `candidate_credentials` holds each candidate's normalised credentials, one row each. Rule 7
  (required ⊆ credentials) is one semi-join per required credential.
  `ix_candidate_credentials_lookup` (tenant_id, credential, candidate_id) yields a credential's
  posting list already in candidate order, so PostgreSQL merge-joins the lists of selective
  credentials and visits only candidates holding all of them; the primary key
  (tenant_id, candidate_id, credential) answers the per-candidate probe (when the dormancy range
  is the smaller set, always on SQLite) and "how many preferred credentials" for the ranking.
  A table rather than a PostgreSQL array with a GIN index: the same SQL and plan shapes then
  run on SQLite, and one candidate's credentials are replaced with plain DML. (Measured at 1M
  candidates, a GIN array answered the benchmark's query in ~85 ms against ~250 ms here; the
  bench stays well inside its targets without it.)
- `ix_outreach_candidate_requested` (tenant_id, candidate_id, requested_at) answers rule 9 (any
  outreach for the candidate in (T - cooldown, T + cooldown)) with one probe; the unique
  (tenant_id, job_id, candidate_id) answers rule 8 and the job's count for the cap, and makes
  "once per job per candidate" a database guarantee; unique (tenant_id, job_id, rank) guards
  the cap's sequence.
- `ix_jobs_tenant_opened` serves reverse matching (the tenant's jobs opened in a window).
- `ix_outbox_unpublished` keeps the relay's "oldest unpublished rows" scan small however
  large the published history grows.
- `ix_suppressed_addresses_tenant_id_address` answers rule 4's "has the mailer reported this
  address" for a chunk of snapshots in one probe per address (the upsert, candidate_sql.py).
  Candidates have no index on their address: only a bounce looks them up by it, a few times
  per hundred emails, while every snapshot would pay for the index.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from worker.store.columns import Timestamp, byte_ordered

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_ID = byte_ordered(64)
ENTITY_ID = byte_ordered(128)
# Normalised credentials may grow under NFKC (one code point can expand to many).
CREDENTIAL = byte_ordered(1000)
ADDRESS = byte_ordered(254)

# Rules 3 and 4 as one stored column, so the matcher's partial index has a parameter-free
# predicate that PostgreSQL can prove from the query even under a generic prepared plan.
CONTACTABLE_SQL = (
    "email IS NOT NULL AND email_syntax_valid AND email_status NOT IN ('bounced', 'invalid') "
    "AND NOT email_suppressed AND NOT do_not_contact"
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: Timestamp()}


class OutreachStatus(StrEnum):
    REQUESTED = "requested"
    CANCELLED = "cancelled"
    SENT = "sent"
    FAILED = "failed"


class CandidateRow(Base):
    """A tenant's candidate, as of the newest snapshot applied; or, once erased, a tombstone
    (ids, `erased_at` and flags only) that makes older snapshots stale."""

    __tablename__ = "candidates"

    tenant_id: Mapped[str] = mapped_column(TENANT_ID, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ENTITY_ID, primary_key=True)
    email: Mapped[str | None] = mapped_column(Text)
    email_syntax_valid: Mapped[bool] = mapped_column(Boolean)
    email_status: Mapped[str] = mapped_column(String(16))
    email_suppressed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    do_not_contact: Mapped[bool] = mapped_column(Boolean)
    contactable: Mapped[bool] = mapped_column(Boolean, Computed(CONTACTABLE_SQL, persisted=True))
    consent_expires_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    # Original spelling, for display and reasons; matching uses candidate_credentials.
    credentials: Mapped[list[str]] = mapped_column(JSON)
    applications: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_candidates_contactable_activity",
            "tenant_id",
            "last_activity_at",
            postgresql_where=text("contactable"),
            sqlite_where=text("contactable"),
        ),
        CheckConstraint(
            "email_status IN ('unknown', 'valid', 'bounced', 'invalid')", name="email_status"
        ),
    )


class CandidateCredentialRow(Base):
    """One normalised credential of one candidate: what rule 7 and the ranking match on."""

    __tablename__ = "candidate_credentials"

    tenant_id: Mapped[str] = mapped_column(TENANT_ID, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ENTITY_ID, primary_key=True)
    credential: Mapped[str] = mapped_column(CREDENTIAL, primary_key=True)

    # No foreign key to candidates: its per-row check was the largest cost of storing a new
    # candidate, and the only writer upserts the candidate first (migration 0003 says more).
    __table_args__ = (
        Index("ix_candidate_credentials_lookup", "tenant_id", "credential", "candidate_id"),
    )


class SuppressedAddressRow(Base):
    """An address the mailer reported bounced or rejected, ASCII letters lower-cased, once
    for each of the tenant's candidates that held it when reported (or took it since). Rule 4
    excludes "this address", whoever it was reported for: kept so that a candidate whose
    snapshots change to another address and back, or a new candidate record with it, does not
    make it usable again. The candidate's `email_suppressed` is what the matcher reads; the
    upsert sets it from here (by tenant and address). Deleted with the rest of the candidate's
    personal data at erasure."""

    __tablename__ = "suppressed_addresses"

    tenant_id: Mapped[str] = mapped_column(TENANT_ID, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ENTITY_ID, primary_key=True)
    # 254 characters at most (the contract's limit on `email`): within an index entry.
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)

    # The upsert's "does a report name this address" probe, once per candidate written.
    __table_args__ = (Index("ix_suppressed_addresses_tenant_id_address", "tenant_id", "address"),)


class JobRow(Base):
    """A job as last opened (and closed). A close for a job never opened is recorded too,
    with `opened_at` null, so a late open with an earlier `opened_at` stays closed."""

    __tablename__ = "jobs"

    tenant_id: Mapped[str] = mapped_column(TENANT_ID, primary_key=True)
    job_id: Mapped[str] = mapped_column(ENTITY_ID, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    apply_url: Mapped[str | None] = mapped_column(Text)
    required_credentials: Mapped[list[str]] = mapped_column(JSON)
    preferred_credentials: Mapped[list[str]] = mapped_column(JSON)
    # Sorted, distinct, normalised: what the matcher binds into its queries.
    required_normalised: Mapped[list[str]] = mapped_column(JSON)
    preferred_normalised: Mapped[list[str]] = mapped_column(JSON)
    # Per-job policy overrides; null means the deployment's setting.
    min_inactive_days: Mapped[int | None] = mapped_column(Integer)
    max_inactive_days: Mapped[int | None] = mapped_column(Integer)
    max_outreach: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_jobs_tenant_opened", "tenant_id", "opened_at"),)


class OutreachRow(Base):
    """One outreach request: at most one per (tenant, job, candidate), ever."""

    __tablename__ = "outreach"

    outreach_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TENANT_ID)
    job_id: Mapped[str] = mapped_column(ENTITY_ID)
    candidate_id: Mapped[str] = mapped_column(ENTITY_ID)
    rank: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), server_default=OutreachStatus.REQUESTED.value)
    # When the status last changed (cancelled_at, sent_at, failed_at), and why if cancelled.
    status_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("tenant_id", "job_id", "candidate_id"),
        UniqueConstraint("tenant_id", "job_id", "rank"),
        Index("ix_outreach_candidate_requested", "tenant_id", "candidate_id", "requested_at"),
        CheckConstraint(
            "status IN ('requested', 'cancelled', 'sent', 'failed')", name="outreach_status"
        ),
    )


class ProcessedEventRow(Base):
    """The dedupe marker: an event (source, id) whose effects are committed. A marker with
    `expires_at` may be deleted after it (worker/ingest/dedupe.py says which ones have one);
    the others are kept for good."""

    __tablename__ = "processed_events"

    source: Mapped[str] = mapped_column(String(1024), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    processed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_processed_events_expiring",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
            sqlite_where=text("expires_at IS NOT NULL"),
        ),
    )


class OutboxRow(Base):
    """A message to publish, written in the transaction that decided it; the relay publishes
    in `id` order and stamps `published_at` once the broker acknowledged it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        # AUTOINCREMENT: SQLite never reuses an id, even after the newest rows are deleted.
        {"sqlite_autoincrement": True},
    )


# The mailer's sent ledger lives in its own package but in this metadata (and the migrations):
# importing it here keeps the models-versus-migrations check and autogenerate complete.
from worker.mailer import ledger as _mail_ledger  # noqa: E402, F401


class PartitionProgressRow(Base):
    """How far one partition of the worker's input has been applied, as its owner last said:
    every record before `caught_up_offset` is applied, or every record not applied yet is at
    or after `next_time` in event time. Read by other workers before they decide a job
    (worker/ingest/group_order.py); every value written is a fact that stays true, so a row
    left by a member that has gone is stale, never wrong. A row speaks for one consumer
    group (another group on the same database reads at its own pace) and for one incarnation
    of its topic (`topic_id`, the broker's id for it, when the client knows it): offsets
    start again at 0 in a topic deleted and created again, and an old row's offset would
    claim records the new topic's owner never applied."""

    __tablename__ = "partition_progress"

    consumer_group: Mapped[str] = mapped_column(String(249), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[str | None] = mapped_column(String(36))
    next_time: Mapped[datetime | None]
    caught_up_offset: Mapped[int | None] = mapped_column(BigInteger)
    # Wall clock, for an operator reading the table; no decision reads it.
    updated_at: Mapped[datetime]
