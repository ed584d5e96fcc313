"""Migrations create exactly the models' schema; the schema check and `reengage migrate`."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from worker.cli import main
from worker.store.engine import create_store_engine
from worker.store.schema import Base
from worker.store.versioning import (
    SchemaOutdatedError,
    head_revisions,
    load_models,
    require_current_schema,
    schema_is_current,
)


# PostgreSQL reflects the generated column's expression in its own spelling, which Alembic
# cannot compare (it warns); every other column, index and constraint is compared.
@pytest.mark.filterwarnings("ignore:Computed default on candidates.contactable")
def test_migrations_produce_the_models_schema(engine: Engine) -> None:
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_migrated_schema_is_current(engine: Engine) -> None:
    assert schema_is_current(engine)
    require_current_schema(engine)


def test_empty_database_is_outdated(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        assert not schema_is_current(engine)
        with pytest.raises(SchemaOutdatedError, match="reengage migrate"):
            require_current_schema(engine)
    finally:
        engine.dispose()


def test_migrate_command_brings_an_empty_database_to_head(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REENGAGE_DATABASE_URL", database_url)
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0  # idempotent
    engine = create_store_engine(database_url)
    try:
        assert schema_is_current(engine)
        assert len(head_revisions()) == 1  # one linear history, no forgotten branch
    finally:
        engine.dispose()


def test_migrate_command_reports_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REENGAGE_DATABASE_URL", "sqlite:////nonexistent-dir/reengage.db")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "REENGAGE_DATABASE_URL" in err
    assert "nonexistent-dir" not in err
