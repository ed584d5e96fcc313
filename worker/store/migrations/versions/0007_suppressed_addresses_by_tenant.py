"""A reported address is unusable for every candidate of the tenant holding it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Rule 4: a candidate is excluded when the mailer "reported this address bounced or rejected".
Until now only the candidate the report named lost the address; another candidate record of
the tenant with the same address (an ATS often holds one person several times) stayed
eligible. The upsert now asks whether any of the tenant's reports name the address, hence
the index on (tenant_id, address).

Upgrading gives every candidate whose current address a report names (ASCII letters
lower-cased, as the upsert compares them) a record of its own and the flag. Outreach already
requested for those candidates is not cancelled here (a migration publishes nothing): the
next bounce report, or snapshot, that concerns them does it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_suppressed_addresses_tenant_id_address"),
        "suppressed_addresses",
        ["tenant_id", "address"],
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    lowered = 'lower(c.email COLLATE "C")' if postgresql else "lower(c.email)"
    op.execute(
        "INSERT INTO suppressed_addresses (tenant_id, candidate_id, address) "  # noqa: S608
        "SELECT DISTINCT c.tenant_id, c.candidate_id, reported.address "
        "FROM candidates AS c JOIN suppressed_addresses AS reported "
        f"ON reported.tenant_id = c.tenant_id AND reported.address = {lowered} "
        "WHERE NOT EXISTS (SELECT 1 FROM suppressed_addresses AS held "
        "WHERE held.tenant_id = c.tenant_id AND held.candidate_id = c.candidate_id "
        "AND held.address = reported.address)"
    )
    op.execute(
        "UPDATE candidates AS c SET email_suppressed = true "  # noqa: S608
        "WHERE NOT c.email_suppressed AND EXISTS (SELECT 1 FROM suppressed_addresses AS held "
        "WHERE held.tenant_id = c.tenant_id AND held.candidate_id = c.candidate_id "
        f"AND held.address = {lowered})"
    )


def downgrade() -> None:
    # The records and flags stay: the earlier code reads them as reports about each holder.
    op.drop_index(
        op.f("ix_suppressed_addresses_tenant_id_address"), table_name="suppressed_addresses"
    )
