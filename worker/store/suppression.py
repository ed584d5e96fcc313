"""The mailer's bounce and rejection reports: which addresses a tenant may no longer use.

Rule 4 excludes a candidate when the mailer "reported this address bounced or rejected": the
address, whichever of the tenant's candidates the report was about (one person often has
several candidate records in an ATS, one per application). The candidate's `email_suppressed`
is what the matcher reads (through `contactable`); `suppressed_addresses` keeps a record of
each reported address for every candidate that held it when reported or took it since, so
that the candidate upsert (candidate_sql.py) flags any candidate that brings the address, new
or returning, and an erasure forgets only the erased candidate's record. Addresses compare
with ASCII letters lower-cased, as both databases' `lower()` do in that upsert. Nothing
crosses tenants.

On PostgreSQL a snapshot and a bounce for one address could otherwise interleave: the
snapshot reads no report, the bounce cannot see the snapshot's uncommitted candidate, and
the candidate is stored unflagged. So each first takes a transaction-scoped advisory lock on
the tenant's reports, snapshots shared and a bounce exclusive, in a statement of its own (a
statement reads what was committed when it began). One lock per tenant rather than per
address: a batch would otherwise hold hundreds, and PostgreSQL's lock table is shared and
small (`max_locks_per_transaction`). A bounce, a few per hundred emails, then holds the
tenant's snapshots back until its batch commits. (SQLite writers are serialised already:
every write transaction begins IMMEDIATE.)
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.engine import Connection

from worker.store.dialect import ascii_lower_sql, is_postgresql, upsert
from worker.store.schema import CandidateRow, SuppressedAddressRow

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MAX_ADDRESS_CHARS = 254  # suppressed_addresses.address


def suppress_email(connection: Connection, tenant_id: str, candidate_id: str) -> list[str]:
    """The mailer reported the candidate's current address bounced or rejected: never use it
    again, for this candidate or any other of the tenant's holding it, now or should a later
    snapshot bring it back. The candidates whose address this made unusable, the one named
    first; none if the named candidate is unknown."""
    # Before any candidate's row lock: two bounces for two holders of one address then queue
    # on it instead of deadlocking on each other's rows.
    _lock_reports(connection, tenant_id, shared=False)
    email = connection.execute(
        update(CandidateRow)
        .where(CandidateRow.tenant_id == tenant_id, CandidateRow.candidate_id == candidate_id)
        .values(email_suppressed=True)
        .returning(CandidateRow.email)
    ).first()
    if email is None:
        return []
    address = _reportable(email[0])
    if address is None:
        return [candidate_id]
    # Reads the tenant's candidates without an index on the address: a bounce comes a few
    # times per hundred emails, candidate updates all the time, and an index would cost those.
    others = connection.execute(
        update(CandidateRow)
        .where(
            CandidateRow.tenant_id == tenant_id,
            CandidateRow.candidate_id != candidate_id,
            ascii_lower_sql(connection, CandidateRow.email) == address,
        )
        .values(email_suppressed=True)
        .returning(CandidateRow.candidate_id)
    ).scalars()
    holders = [candidate_id, *sorted(others, key=str.encode)]
    record_holders(connection, tenant_id, address, holders)
    return holders


def record_holders(
    connection: Connection, tenant_id: str, address: str, candidate_ids: Iterable[str]
) -> None:
    """A record of the reported `address` for each of these candidates (kept if there)."""
    rows = [{"tenant_id": tenant_id, "candidate_id": c, "address": address} for c in candidate_ids]
    if rows:
        statement = upsert(connection, SuppressedAddressRow).values(rows)
        connection.execute(statement.on_conflict_do_nothing())


def lock_reports_shared(connection: Connection, tenant_id: str) -> None:
    """Before reading whether the tenant's reports name a snapshot's address (see above)."""
    _lock_reports(connection, tenant_id, shared=True)


def _lock_reports(connection: Connection, tenant_id: str, *, shared: bool) -> None:
    if is_postgresql(connection):
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        connection.exec_driver_sql(
            f"SELECT {function}(hashtextextended('reengage suppressed addresses ' || %s, 0))",
            (tenant_id,),
        )


def _reportable(email: str | None) -> str | None:
    """The address as reports hold it; None for none, or for one over 254 characters: one
    padded with whitespace (the contract limits the trimmed value), which rule 4 never finds
    valid, so there is nothing to remember it for."""
    if email is None or len(email) > _MAX_ADDRESS_CHARS:
        return None
    return ascii_lower(email)


def ascii_lower(address: str) -> str:
    """ASCII letters lower-cased, others as they are: how both databases' `lower()` compare
    addresses in the upsert (PostgreSQL under the C collation)."""
    return address.translate(_ASCII_LOWER)
