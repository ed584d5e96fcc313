"""A migrated store per test, on SQLite and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from worker.store.engine import create_store_engine
from worker.store.versioning import migrate_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_store_engine(database_url)
    migrate_engine(engine)
    yield engine
    engine.dispose()
