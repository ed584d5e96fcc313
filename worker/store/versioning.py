"""Schema versions: `reengage migrate` brings a database to the newest revision, and the
worker checks `schema_is_current` at start-up and refuses to run on an outdated schema.

The Alembic configuration is built here in code (no alembic.ini), pointing at the migrations
shipped inside this package.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine
from sqlalchemy.engine import Connection

from worker.store.engine import READ_ONLY, create_store_engine

MIGRATIONS = Path(__file__).parent / "migrations"

# Modules declaring tables on worker.store.schema.Base outside worker/store. Autogenerate and
# the schema test compare the database with Base.metadata, which knows only imported models.
MODEL_MODULES = ("worker.store.schema", "worker.mailer.ledger")


class SchemaOutdatedError(RuntimeError):
    """The database schema is not the one this version needs."""

    def __init__(
        self, message: str = "the database schema is outdated: run `reengage migrate`"
    ) -> None:
        super().__init__(message)


class SchemaTooNewError(SchemaOutdatedError):
    """The database was migrated by a later release (this one was rolled back to, say):
    `reengage migrate` cannot help, and downgrading is for the later release to do."""

    def __init__(self, revisions: Sequence[str]) -> None:
        super().__init__(
            f"the database schema (revision {', '.join(revisions)}) is newer than this "
            "release knows: run the release that migrated it, or a later one"
        )


def load_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def migrate(url: str | URL) -> None:
    """Upgrade the database at `url` to the newest revision (creating the tables if empty)."""
    engine = create_store_engine(url)
    try:
        migrate_engine(engine)
    finally:
        engine.dispose()


def migrate_engine(engine: Engine) -> None:
    """SchemaTooNewError if a later release migrated the database."""
    with engine.begin() as connection:
        _refuse_unknown_revisions(connection)
        command.upgrade(alembic_config(connection), "head")


def _refuse_unknown_revisions(connection: Connection) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current_revisions(connection) - known)
    if unknown:
        raise SchemaTooNewError(unknown)


def schema_is_current(engine: Engine) -> bool:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return current_revisions(connection) == head_revisions()


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaOutdatedError unless the schema is at the newest revision (SchemaTooNewError
    when it is past it)."""
    if not schema_is_current(engine):
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            _refuse_unknown_revisions(connection)
        raise SchemaOutdatedError
