"""The mailer's bounce and rejection reports: which addresses a candidate may no longer use.

Rule 4 excludes a candidate when the mailer "reported this address bounced or rejected". The
candidate's `email_suppressed` is what the matcher reads (through `contactable`);
`suppressed_addresses` remembers every reported address, so that the candidate upsert
(candidate_sql.py) can set the flag again when a snapshot brings one back. Addresses compare
with ASCII letters lower-cased, as both databases' `lower()` do in that upsert.
"""

from __future__ import annotations

import string

from sqlalchemy import update
from sqlalchemy.engine import Connection

from worker.store.dialect import upsert
from worker.store.schema import CandidateRow, SuppressedAddressRow

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MAX_ADDRESS_CHARS = 254  # suppressed_addresses.address


def suppress_email(connection: Connection, tenant_id: str, candidate_id: str) -> bool:
    """The mailer reported the candidate's current address bounced or rejected: never use it
    again, now or should a later snapshot bring it back. False if the candidate is unknown."""
    email = connection.execute(
        update(CandidateRow)
        .where(CandidateRow.tenant_id == tenant_id, CandidateRow.candidate_id == candidate_id)
        .values(email_suppressed=True)
        .returning(CandidateRow.email)
    ).first()
    if email is None:
        return False
    # An address over 254 characters is one padded with whitespace (the contract limits the
    # trimmed value), which rule 4 never finds valid: there is nothing to remember it for.
    if email[0] is not None and len(email[0]) <= _MAX_ADDRESS_CHARS:
        reported = {"tenant_id": tenant_id, "candidate_id": candidate_id}
        statement = upsert(connection, SuppressedAddressRow).values(
            **reported, address=ascii_lower(email[0])
        )
        connection.execute(statement.on_conflict_do_nothing())
    return True


def ascii_lower(address: str) -> str:
    """ASCII letters lower-cased, others as they are: how both databases' `lower()` compare
    addresses in the upsert (PostgreSQL under the C collation)."""
    return address.translate(_ASCII_LOWER)
