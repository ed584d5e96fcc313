"""The database fixtures give real, isolated databases, and the SQL the store relies on
(ON CONFLICT upserts, transactional rollback) behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import NullPool

metadata = MetaData()
items = Table(
    "smoke_items",
    metadata,
    Column("item_id", String(32), primary_key=True),
    Column("quantity", Integer, nullable=False),
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=NullPool)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _upsert(engine: Engine, item_id: str, quantity: int) -> None:
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(items).values(item_id=item_id, quantity=quantity)
    statement = statement.on_conflict_do_update(
        index_elements=[items.c.item_id],
        set_={"quantity": statement.excluded.quantity},
        where=items.c.quantity < statement.excluded.quantity,
    )
    with engine.begin() as connection:
        connection.execute(statement)


def _quantities(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(items.c.item_id, items.c.quantity)).all()
    return {item_id: quantity for item_id, quantity in rows}


def test_insert_and_read_back(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(items.insert(), [{"item_id": "a", "quantity": 1}])
    assert _quantities(engine) == {"a": 1}


def test_conditional_upsert_applies_only_when_the_condition_holds(engine: Engine) -> None:
    _upsert(engine, "a", 5)
    _upsert(engine, "a", 7)
    _upsert(engine, "a", 3)  # smaller: the WHERE on DO UPDATE keeps 7
    _upsert(engine, "b", 1)
    assert _quantities(engine) == {"a": 7, "b": 1}


def test_rollback_leaves_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(items.insert(), [{"item_id": "a", "quantity": 1}])
        raise RuntimeError("abort the transaction")
    assert _quantities(engine) == {}


def test_each_test_gets_an_empty_database(engine: Engine) -> None:
    # The tests above wrote rows; a fresh database per test means none are visible here.
    assert _quantities(engine) == {}
