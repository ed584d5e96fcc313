"""The few statements whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def upsert(connection: Connection, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """`INSERT ... ON CONFLICT` for the connection's database (same API on both)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def ascii_lower_sql(
    connection: Connection, text: SQLColumnExpression[str | None]
) -> ColumnElement[str | None]:
    """`lower()` of ASCII letters only, on both databases: PostgreSQL's under the C collation
    (its database default may lower-case other letters too), SQLite's always."""
    if is_postgresql(connection):
        return func.lower(text.collate("C"))
    return func.lower(text)
