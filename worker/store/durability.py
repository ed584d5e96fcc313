"""Whether a commit reaches the disk before it returns, as the guarantees need.

The worker commits Kafka offsets, and the mailer hands an email to the SMTP server, once a
database commit returns. If the database may still lose that commit (a power cut, an OS crash,
a server crash), those events are lost or those emails sent again. The store's own SQLite
connections are set up durable (engine.py); a PostgreSQL server is the operator's, so its
settings are read and reported.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from worker.store.dialect import is_postgresql

# Server settings under which a returned commit may still be lost, with the values that say
# so. (`synchronous_commit = local` or `remote_write` is durable on the primary itself.)
_LOSSY_WHEN = {"fsync": {"off"}, "synchronous_commit": {"off"}}


def commit_durability_gaps(connection: Connection) -> list[str]:
    """`setting=value` for each setting that lets a returned commit be lost; empty if none."""
    if is_postgresql(connection):
        return [
            f"{name}={value}"
            for name, lossy in _LOSSY_WHEN.items()
            if (value := str(connection.exec_driver_sql(f"SHOW {name}").scalar())) in lossy
        ]
    synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    return [] if synchronous in (2, 3) else [f"synchronous={synchronous}"]  # FULL or EXTRA
