"""Alembic environment: always online, on the connection `worker.store.versioning` hands in.

There is no alembic.ini: `reengage migrate` (worker/store/versioning.py) builds the config in
code, so the migrations ship inside the package and need no working directory.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from worker.store.schema import Base
from worker.store.versioning import load_models

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with worker.store.versioning.migrate (reengage migrate)")

load_models()
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    # SQLite alters tables by copying them; batch mode does that for later revisions.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
