"""The mailer's bounce and rejection reports: which addresses a tenant may no longer use.

Rule 4 excludes a candidate when the mailer "reported this address bounced or rejected": the
address, whichever of the tenant's candidates the report was about (one person often has
several candidate records in an ATS, one per application). The candidate's `email_suppressed`
is what the matcher reads (through `contactable`); `suppressed_addresses` remembers each
reported address for every candidate holding it, so that the candidate upsert
(candidate_sql.py) sets the flag on any candidate that later brings the address, new or
returning. Addresses compare with ASCII letters lower-cased, as both databases' `lower()` do
in that upsert. Nothing crosses tenants.
"""

from __future__ import annotations

import string

from sqlalchemy import update
from sqlalchemy.engine import Connection

from worker.store.dialect import ascii_lower_sql, upsert
from worker.store.schema import CandidateRow, SuppressedAddressRow

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MAX_ADDRESS_CHARS = 254  # suppressed_addresses.address


def suppress_email(connection: Connection, tenant_id: str, candidate_id: str) -> list[str]:
    """The mailer reported the candidate's current address bounced or rejected: never use it
    again, for this candidate or any other of the tenant's holding it, now or should a later
    snapshot bring it back. The candidates whose address this made unusable, the one named
    first; none if the named candidate is unknown."""
    email = connection.execute(
        update(CandidateRow)
        .where(CandidateRow.tenant_id == tenant_id, CandidateRow.candidate_id == candidate_id)
        .values(email_suppressed=True)
        .returning(CandidateRow.email)
    ).first()
    if email is None:
        return []
    # An address over 254 characters is one padded with whitespace (the contract limits the
    # trimmed value), which rule 4 never finds valid: there is nothing to remember it for.
    if email[0] is None or len(email[0]) > _MAX_ADDRESS_CHARS:
        return [candidate_id]
    address = ascii_lower(email[0])
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
    # One record per holder: an erasure forgets its own, and the others keep the address out.
    statement = upsert(connection, SuppressedAddressRow).values(
        [{"tenant_id": tenant_id, "candidate_id": c, "address": address} for c in holders]
    )
    connection.execute(statement.on_conflict_do_nothing())
    return holders


def ascii_lower(address: str) -> str:
    """ASCII letters lower-cased, others as they are: how both databases' `lower()` compare
    addresses in the upsert (PostgreSQL under the C collation)."""
    return address.translate(_ASCII_LOWER)
