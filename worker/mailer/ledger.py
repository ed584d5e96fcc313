"""The sent ledger: one row per outreach_id, the mailer's memory of what it did.

States and the only transitions there are (each a conditional UPDATE, so two mailers, or a
mailer and a redelivery, can never both take the same step):

    pending ──claim──▶ sending ──250 / found after a crash──▶ sent
       │                 │  └──4xx reply──▶ pending   (the server said no: nothing delivered)
       │                 └──5xx reply / no reply──▶ failed
       ├──cancelled──▶ skipped
       └──5xx before the end of data / retries spent / bad address──▶ failed

`sending` means exactly one thing: the claim's COMMIT went out, and the SMTP end of data (the
only step after which a server can have accepted the message) was written right behind it
(worker/mailer/handover.py), and no reply has been recorded. A row found in `sending` by anyone
but the process holding it is therefore resolved as `sent`, with the claim's time as `sent_at`,
and never sent again. See docs/mailer.md for why that is the rule, and what it costs.

No personal data is stored here (no address, no name): an erased candidate leaves nothing in
the ledger but ids and outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.orm import Mapped, mapped_column

from worker.store.dialect import upsert
from worker.store.schema import ENTITY_ID, TENANT_ID, Base


class MailState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


FINAL_STATES = frozenset({MailState.SENT, MailState.FAILED, MailState.SKIPPED})


class MailLedgerRow(Base):
    __tablename__ = "mail_ledger"

    outreach_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TENANT_ID)
    job_id: Mapped[str] = mapped_column(ENTITY_ID)
    candidate_id: Mapped[str] = mapped_column(ENTITY_ID)
    state: Mapped[str] = mapped_column(String(16))
    # Skip or failure reason (the contract's words) and, for failures, what the server said.
    reason: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    # Ends of data written for this outreach (retries after a 4xx reply included).
    attempts: Mapped[int] = mapped_column(Integer)
    # Which process holds the `sending` claim, and since when.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # When the row reached its final state: the status event's time (sent_at for `sent`).
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="mail_state"
        ),
    )


@dataclass(frozen=True, slots=True)
class OutreachKey:
    outreach_id: str
    tenant_id: str
    job_id: str
    candidate_id: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    key: OutreachKey
    state: MailState
    reason: str | None
    detail: str | None
    message_id: str | None
    attempts: int
    claimed_by: str | None
    finished_at: datetime | None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


_T = MailLedgerRow
_SELECT = select(MailLedgerRow.__table__)


def record_requested(connection: Connection, key: OutreachKey, now: datetime) -> bool:
    """Remember a requested outreach as `pending`, unless the ledger knows it already (False)."""
    statement = (
        upsert(connection, _T)
        .values(
            outreach_id=key.outreach_id,
            tenant_id=key.tenant_id,
            job_id=key.job_id,
            candidate_id=key.candidate_id,
            state=MailState.PENDING.value,
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["outreach_id"])
        .returning(_T.outreach_id)
    )
    return connection.execute(statement).first() is not None


def record_cancelled(connection: Connection, key: OutreachKey, now: datetime) -> bool:
    """`pending` -> `skipped`; an outreach the ledger has never seen is remembered as skipped,
    so a request arriving later (a replay) is not sent. False when it is too late (claimed,
    sent or failed) or the outreach was already skipped."""
    if skip_pending(connection, [key], now):
        return True
    inserted = connection.execute(
        upsert(connection, _T)
        .values(
            outreach_id=key.outreach_id,
            tenant_id=key.tenant_id,
            job_id=key.job_id,
            candidate_id=key.candidate_id,
            state=MailState.SKIPPED.value,
            reason="cancelled",
            attempts=0,
            created_at=now,
            finished_at=now,
        )
        .on_conflict_do_nothing(index_elements=["outreach_id"])
        # rowcount is not kept for an INSERT: a returned row says it was inserted.
        .returning(_T.outreach_id)
    )
    return inserted.first() is not None


def skip_pending(connection: Connection, keys: Sequence[OutreachKey], now: datetime) -> set[str]:
    """`pending` -> `skipped` (cancelled) for those of `keys` still pending; returns their
    outreach ids. Rows in any other state, and outreach the ledger has not seen, are left
    alone; so is a row whose tenant, job or candidate differs from the cancellation's (as the
    worker does with reports): a cancellation naming tenant B never stops tenant A's email.

    The ids are compared here, not in one OR of each key's columns: a read-ahead can bring
    thousands of cancellations, and SQLite refuses an expression that deep."""
    if not keys:
        return set()
    wanted = set(keys)
    candidates = connection.execute(
        select(_T.outreach_id, _T.tenant_id, _T.job_id, _T.candidate_id).where(
            _T.outreach_id.in_(sorted({key.outreach_id for key in keys})),
            _T.state == MailState.PENDING.value,
        )
    )
    named = [row.outreach_id for row in candidates if OutreachKey(*row) in wanted]
    if not named:
        return set()
    skipped = connection.execute(
        update(_T)
        .where(_T.outreach_id.in_(named), _T.state == MailState.PENDING.value)
        .values(state=MailState.SKIPPED.value, reason="cancelled", finished_at=now)
        .returning(_T.outreach_id)
    )
    return {row.outreach_id for row in skipped}


def claim(
    connection: Connection, outreach_id: str, claimant: str, message_id: str, now: datetime
) -> bool:
    """`pending` -> `sending`, held by `claimant`. Its COMMIT goes out right before the end of
    data (worker/mailer/handover.py)."""
    result = connection.execute(
        update(_T)
        .where(_T.outreach_id == outreach_id, _T.state == MailState.PENDING.value)
        .values(
            state=MailState.SENDING.value,
            claimed_by=claimant,
            claimed_at=now,
            message_id=message_id,
            attempts=_T.attempts + 1,
        )
    )
    return result.rowcount == 1


def release(connection: Connection, outreach_id: str, claimant: str) -> bool:
    """`sending` -> `pending`: only when the claimant knows the server did not take the message
    (it answered 4xx to the end of data, or the end of data was never written)."""
    result = connection.execute(
        update(_T)
        .where(
            _T.outreach_id == outreach_id,
            _T.state == MailState.SENDING.value,
            _T.claimed_by == claimant,
        )
        .values(state=MailState.PENDING.value, claimed_by=None, claimed_at=None)
    )
    return result.rowcount == 1


def _held_by(claimant: str) -> ColumnElement[bool]:
    """The claimant's own row: `sending` under its claim, or still `pending` when the claim's
    COMMIT was not confirmed after the end of data had gone out (handover.Handover.UNCERTAIN)."""
    return ((_T.state == MailState.SENDING.value) & (_T.claimed_by == claimant)) | (
        _T.state == MailState.PENDING.value
    )


def mark_sent(
    connection: Connection, outreach_id: str, claimant: str, message_id: str, now: datetime
) -> bool:
    """-> `sent`, by the claimant only (a resolver may have overtaken it)."""
    result = connection.execute(
        update(_T)
        .where(_T.outreach_id == outreach_id, _held_by(claimant))
        .values(state=MailState.SENT.value, message_id=message_id, finished_at=now)
    )
    return result.rowcount == 1


def mark_failed(
    connection: Connection,
    outreach_id: str,
    *,
    reason: str,
    detail: str,
    now: datetime,
    claimant: str | None,
    message_id: str | None = None,
) -> bool:
    """-> `failed`. With a claimant: its own row (the server answered 5xx to the end of data,
    or no reply came). Without: from `pending` (nothing was handed over: refused before the
    end of data, retries spent, unusable address)."""
    condition = _T.state == MailState.PENDING.value if claimant is None else _held_by(claimant)
    values: dict[str, object] = {"message_id": message_id} if message_id else {}
    result = connection.execute(
        update(_T)
        .where(_T.outreach_id == outreach_id, condition)
        .values(
            state=MailState.FAILED.value, reason=reason, detail=detail, finished_at=now, **values
        )
    )
    return result.rowcount == 1


def resolve_abandoned(connection: Connection, entry: LedgerEntry) -> bool:
    """A `sending` row its claimant left behind (it crashed, or lost its partitions mid-send):
    the end of data went out right behind the claim's COMMIT, so the server has the message
    unless it refused it. Recorded as sent at the claim's time; never sent again."""
    if entry.state is not MailState.SENDING or entry.claimed_by is None:
        return False
    result = connection.execute(
        update(_T)
        .where(
            _T.outreach_id == entry.key.outreach_id,
            _T.state == MailState.SENDING.value,
            _T.claimed_by == entry.claimed_by,
        )
        .values(state=MailState.SENT.value, finished_at=_T.claimed_at)
    )
    return result.rowcount == 1


def get(connection: Connection, outreach_id: str) -> LedgerEntry | None:
    row = connection.execute(_SELECT.where(_T.outreach_id == outreach_id)).first()
    return None if row is None else _entry(row._mapping)


def get_many(connection: Connection, outreach_ids: list[str]) -> dict[str, LedgerEntry]:
    if not outreach_ids:
        return {}
    rows = connection.execute(_SELECT.where(_T.outreach_id.in_(outreach_ids)))
    entries = (_entry(row._mapping) for row in rows)
    return {entry.key.outreach_id: entry for entry in entries}


def _entry(row: RowMapping) -> LedgerEntry:
    return LedgerEntry(
        key=OutreachKey(row["outreach_id"], row["tenant_id"], row["job_id"], row["candidate_id"]),
        state=MailState(row["state"]),
        reason=row["reason"],
        detail=row["detail"],
        message_id=row["message_id"],
        attempts=row["attempts"],
        claimed_by=row["claimed_by"],
        finished_at=row["finished_at"],
    )
