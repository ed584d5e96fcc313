"""`reengage migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from worker.logs import get_logger
from worker.runtime.shutdown import Shutdown
from worker.runtime.startup import wait_for_database, warn_if_commits_may_be_lost
from worker.settings import ConfigurationError, Settings
from worker.store.engine import create_store_engine
from worker.store.versioning import SchemaTooNewError, current_revisions, migrate_engine

_log = get_logger("reengage.migrate")


def run(_args: argparse.Namespace, settings: Settings) -> int:
    bring_up_to_date(settings, Shutdown().install())
    return 0


def bring_up_to_date(settings: Settings, shutdown: Shutdown | None) -> None:
    """Migrate the database to the newest revision. `shutdown`: the caller's signal flag,
    which ends the wait for the database (`Interrupted`); the caller installs the handlers
    that set it (`make run`'s supervisor keeps its own)."""
    engine = create_store_engine(settings.database)
    try:
        # A signal while waiting ends the command at once (nothing done yet). Once begun, the
        # migration runs to its end, one transaction, before the signal is honoured.
        wait_for_database(engine, settings.startup_timeout_seconds, shutdown)
        with engine.connect() as connection:
            before = sorted(current_revisions(connection))
        migrate_engine(engine)
        with engine.connect() as connection:
            after = sorted(current_revisions(connection))
        warn_if_commits_may_be_lost(engine)  # as every command that checks the database
    except SchemaTooNewError as exc:
        raise ConfigurationError("REENGAGE_DATABASE_URL", str(exc)) from None
    except OperationalError:
        # The driver's message may quote the host or path; the URL itself is a secret.
        raise ConfigurationError(
            "REENGAGE_DATABASE_URL", "cannot connect to the database"
        ) from None
    finally:
        engine.dispose()
    _log.info("database schema is current", revision_before=before, revision=after)
