"""The set-based statements that store a chunk of candidate snapshots, spelled per database.

Ingest writes hundreds of candidates per transaction, so these bypass SQLAlchemy's per-row
statement machinery and talk to the driver: PostgreSQL gets one parameter per column, an array
expanded by `unnest` (a short statement that psycopg parses and prepares once, whatever the
row count); SQLite gets multi-row VALUES, or `executemany`, which its C driver loops over.
Values go in as the tables store them (timestamps as integer microseconds, JSON as text) and
only the keys and the one column a snapshot does not set come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy.engine import Connection

from worker.store.dialect import is_postgresql
from worker.store.suppression import ascii_lower, lock_reports_shared, record_holders

CredentialKey = tuple[str, str, str]  # tenant_id, candidate_id, normalised credential


class SnapshotRow(NamedTuple):
    """One candidate's columns as a snapshot sets them (everything but the mailer's
    `email_suppressed` and the erasure tombstone), already encoded as stored: timestamps as
    integer microseconds, JSON as the text SQLAlchemy's JSON type writes (`json.dumps`
    defaults, so the stored text is the same whichever path wrote it). In `_SET_COLUMNS`
    order, so the row is the statement's parameters as it stands."""

    tenant_id: str
    candidate_id: str
    email: str | None
    email_syntax_valid: bool
    email_status: str
    do_not_contact: bool
    consent_expires_at: int | None
    last_activity_at: int | None
    first_name: str | None
    last_name: str | None
    location: str | None
    credentials: str
    applications: str
    updated_at: int


# The columns a snapshot sets, in SnapshotRow order, with their PostgreSQL array type.
_SET_COLUMNS = (
    ("tenant_id", "text"),
    ("candidate_id", "text"),
    ("email", "text"),
    ("email_syntax_valid", "bool"),
    ("email_status", "text"),
    ("do_not_contact", "bool"),
    ("consent_expires_at", "int8"),
    ("last_activity_at", "int8"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("location", "text"),
    ("credentials", "text"),
    ("applications", "text"),
    ("updated_at", "int8"),
)
# What the upsert hands back per applied row: everything else the candidate now holds is the
# snapshot's own, and the caller has it already.
_RETURNED = "RETURNING tenant_id, candidate_id, email_suppressed"

# Statements are put together from this module's constant column names, never from data:
# every value is a bound parameter (hence the `noqa: S608`s).
_NAMES = [name for name, _ in _SET_COLUMNS]
_INSERTED = ", ".join([*_NAMES, "email_suppressed", "erased_at"])
_UPDATED = ", ".join(f"{name} = excluded.{name}" for name in _NAMES[2:])


def _on_conflict(ascii_lower: str) -> str:
    """Both spellings: newest updated_at wins, the tombstone refuses older snapshots, and
    `email_suppressed` is what the inserted row proposes (whether one of the tenant's mailer
    reports names the address, `_reported`) or, for the same address ("same" ignoring ASCII
    case: `Jane@Example.com` bounced means `jane@example.com` did), also the flag the
    candidate had. `ascii_lower` is the database's spelling of lower-casing ASCII letters
    only, so both databases agree on the other letters."""
    same_address = f"{ascii_lower.format('stored.email')} = {ascii_lower.format('excluded.email')}"
    return f"""
ON CONFLICT (tenant_id, candidate_id) DO UPDATE SET
    {_UPDATED},
    email_suppressed = CASE
        WHEN {same_address} THEN stored.email_suppressed OR excluded.email_suppressed
        ELSE excluded.email_suppressed
    END
WHERE stored.updated_at < excluded.updated_at
  AND (stored.erased_at IS NULL OR stored.erased_at < excluded.updated_at)
"""


# PostgreSQL lower-cases only ASCII under the C collation; SQLite's lower() only ever does.
_POSTGRESQL_LOWER = 'lower({} COLLATE "C")'
_SQLITE_LOWER = "lower({})"
_POSTGRESQL_ON_CONFLICT = _on_conflict(_POSTGRESQL_LOWER)
_SQLITE_ON_CONFLICT = _on_conflict(_SQLITE_LOWER)
_SELECTED = ", ".join(
    f"s.{name}::json" if name in ("credentials", "applications") else f"s.{name}" for name in _NAMES
)
# `%b`: arrays go in psycopg's binary format, which needs no per-element quoting.
_ARRAYS = ", ".join(f"%b::{kind}[]" for _, kind in _SET_COLUMNS)
_POSTGRESQL_UPSERT = f"""
INSERT INTO candidates AS stored ({_INSERTED})
SELECT {_SELECTED}, s.email_suppressed, NULL
FROM unnest({_ARRAYS}, %b::bool[]) AS s({", ".join(_NAMES)}, email_suppressed)
{_POSTGRESQL_ON_CONFLICT}
{_RETURNED}
"""  # noqa: S608
_SQLITE_INSERT = f"INSERT INTO candidates AS stored ({_INSERTED}) VALUES "  # noqa: S608
_SQLITE_ROW = f"({', '.join('?' for _ in _SET_COLUMNS)}, ?, NULL)"


def upsert_snapshots(
    connection: Connection, rows: Sequence[SnapshotRow]
) -> dict[tuple[str, str], bool]:
    """Insert or update (when newer and not erased) each row. The rows applied, by (tenant_id,
    candidate_id), each with the `email_suppressed` it now has (the one column a snapshot does
    not set). At most one row per candidate."""
    if not rows:
        return {}
    reported = _reported(connection, rows)
    flags = [address is not None for address in reported]
    if is_postgresql(connection):
        columns = tuple(list(column) for column in zip(*rows, strict=True))
        result = connection.exec_driver_sql(_POSTGRESQL_UPSERT, (*columns, flags))
    else:
        statement = (
            _SQLITE_INSERT + ", ".join(_SQLITE_ROW for _ in rows) + _SQLITE_ON_CONFLICT + _RETURNED
        )
        values = tuple(v for row, flag in zip(rows, flags, strict=True) for v in (*row, flag))
        result = connection.exec_driver_sql(statement, values)
    applied = {(tenant, candidate): bool(suppressed) for tenant, candidate, suppressed in result}
    for row, address in zip(rows, reported, strict=True):
        if address is not None and (row.tenant_id, row.candidate_id) in applied:
            # A candidate that took a reported address keeps its own record of the report.
            record_holders(connection, row.tenant_id, address, [row.candidate_id])
    return applied


def _reported(connection: Connection, rows: Sequence[SnapshotRow]) -> list[str | None]:
    """Per row, its address if one of its tenant's mailer reports names it (rule 4: "this
    address", whichever candidate it was reported for), else None. One indexed query per
    tenant, after the tenant's shared lock on its reports (suppression.py says why)."""
    addresses = [None if row.email is None else ascii_lower(row.email) for row in rows]
    wanted: dict[str, set[str]] = {}
    for row, address in zip(rows, addresses, strict=True):
        if address is not None:
            wanted.setdefault(row.tenant_id, set()).add(address)
    found: set[tuple[str, str]] = set()
    for tenant_id, candidates in sorted(wanted.items()):
        lock_reports_shared(connection, tenant_id)
        if is_postgresql(connection):
            names = connection.exec_driver_sql(
                "SELECT address FROM suppressed_addresses"
                " WHERE tenant_id = %s AND address = ANY(%b::text[])",
                (tenant_id, list(candidates)),
            )
        else:
            placeholders = ", ".join("?" for _ in candidates)
            names = connection.exec_driver_sql(
                "SELECT address FROM suppressed_addresses"  # noqa: S608
                f" WHERE tenant_id = ? AND address IN ({placeholders})",
                (tenant_id, *candidates),
            )
        found.update((tenant_id, address) for (address,) in names)
    return [
        address if address is not None and (row.tenant_id, address) in found else None
        for row, address in zip(rows, addresses, strict=True)
    ]


_SQLITE_HELD = (
    "SELECT tenant_id, candidate_id, credential FROM candidate_credentials"
    " WHERE tenant_id = ? AND candidate_id IN"
)


def held_credentials(connection: Connection, keys: Sequence[tuple[str, str]]) -> set[CredentialKey]:
    """The normalised credential rows these candidates have now."""
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, candidate_id in keys:
        by_tenant.setdefault(tenant_id, []).append(candidate_id)
    held: set[CredentialKey] = set()
    for tenant_id, candidate_ids in sorted(by_tenant.items()):
        if is_postgresql(connection):
            rows = connection.exec_driver_sql(
                "SELECT tenant_id, candidate_id, credential FROM candidate_credentials"
                " WHERE tenant_id = %s AND candidate_id = ANY(%b::text[])",
                (tenant_id, candidate_ids),
            )
        else:
            placeholders = ", ".join("?" for _ in candidate_ids)
            rows = connection.exec_driver_sql(
                f"{_SQLITE_HELD} ({placeholders})",
                (tenant_id, *candidate_ids),
            )
        held.update((t, c, credential) for t, c, credential in rows)
    return held


def delete_credentials(connection: Connection, keys: Sequence[CredentialKey]) -> None:
    if not keys:
        return
    if is_postgresql(connection):
        connection.exec_driver_sql(
            "DELETE FROM candidate_credentials AS held"
            " USING unnest(%b::text[], %b::text[], %b::text[]) AS gone(t, c, credential)"
            " WHERE held.tenant_id = gone.t AND held.candidate_id = gone.c"
            " AND held.credential = gone.credential",
            _columns(keys),
        )
    else:
        connection.exec_driver_sql(
            "DELETE FROM candidate_credentials"
            " WHERE tenant_id = ? AND candidate_id = ? AND credential = ?",
            list(keys),
        )


def insert_credentials(connection: Connection, keys: Sequence[CredentialKey]) -> None:
    if not keys:
        return
    if is_postgresql(connection):
        connection.exec_driver_sql(
            "INSERT INTO candidate_credentials (tenant_id, candidate_id, credential)"
            " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])",
            _columns(keys),
        )
    else:
        connection.exec_driver_sql(
            "INSERT INTO candidate_credentials (tenant_id, candidate_id, credential)"
            " VALUES (?, ?, ?)",
            list(keys),
        )


def _columns(keys: Sequence[CredentialKey]) -> tuple[list[str], list[str], list[str]]:
    return ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
