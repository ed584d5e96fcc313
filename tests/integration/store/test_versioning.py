"""Migrations create exactly the models' schema; the schema check and `reengage migrate`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from worker.cli import main
from worker.ingest.dedupe import claim_unprocessed
from worker.rules.normalise import norm
from worker.store.credential_keys import credential_keys
from worker.store.engine import create_store_engine
from worker.store.schema import Base
from worker.store.versioning import (
    SchemaOutdatedError,
    SchemaTooNewError,
    alembic_config,
    head_revisions,
    load_models,
    migrate_engine,
    require_current_schema,
    schema_is_current,
)

# `reengage migrate` run in-process installs its SIGTERM/SIGINT handlers in pytest's.
pytestmark = pytest.mark.usefixtures("signal_handlers_restored")


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
    monkeypatch.setenv("REENGAGE_STARTUP_TIMEOUT_SECONDS", "1")  # migrate waits this long
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "REENGAGE_DATABASE_URL" in err
    assert "nonexistent-dir" not in err


def test_a_database_a_later_release_migrated_is_refused_and_not_called_outdated(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a rollback to an older release: "run migrate" would be the wrong advice (and
    Alembic would fail with a traceback), so both the check and `migrate` say what is wrong."""
    engine = create_store_engine(migrated)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaTooNewError, match="revision 9999"):
            require_current_schema(engine)
    finally:
        engine.dispose()
    monkeypatch.setenv("REENGAGE_DATABASE_URL", migrated)
    assert main(["migrate"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "REENGAGE_DATABASE_URL" in line
    assert "newer than this release" in line


def test_a_file_that_is_not_a_database_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    monkeypatch.setenv("REENGAGE_DATABASE_URL", f"sqlite:///{path}")
    assert main(["migrate"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "REENGAGE_DATABASE_URL" in line
    assert "not a database" in line
    assert path.read_text() == "not a database\n" * 100  # left as it was


def test_0004_stores_long_normalised_credentials_as_digests(sqlite_url: str) -> None:
    """SQLite could hold candidate rows and job lists with credentials too long for a key;
    upgrading turns them into the digests credential_keys now looks up."""
    long_credential = "\ufdfa" * 100  # what the store held: its normalised form
    stored = norm(long_credential)
    engine = create_store_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0003")
            connection.execute(
                text(
                    "INSERT INTO candidate_credentials VALUES ('acme', 'c-1', :long), "
                    "('acme', 'c-1', 'python')"
                ),
                {"long": stored},
            )
            _insert_job(
                connection,
                "j-1",
                required=[long_credential, "python"],
                keys=sorted([stored, "python"]),
            )
        migrate_engine(engine)
        with engine.connect() as connection:
            held = connection.execute(text("SELECT credential FROM candidate_credentials"))
            required = connection.execute(text("SELECT required_normalised FROM jobs"))
            assert sorted(held.scalars()) == sorted(credential_keys([long_credential, "Python"]))
            assert json.loads(required.scalar_one()) == sorted(
                credential_keys([long_credential, "python"])
            )
    finally:
        engine.dispose()


def test_0005_keeps_the_addresses_already_suppressed(database_url: str) -> None:
    """Before 0005 a suppressed address was only the candidate's flag: upgrading records the
    current address of every flagged candidate (ASCII letters lower-cased)."""
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0004")
            _insert_addresses(
                connection,
                [
                    ("c-1", "Jane.Doe@Example.COM", True),
                    ("c-2", "kept@example.com", False),
                    ("c-3", None, True),
                ],
            )
        migrate_engine(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT tenant_id, candidate_id, address FROM suppressed_addresses")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("acme", "c-1", "jane.doe@example.com")]


def test_0007_suppresses_every_holder_of_a_reported_address(database_url: str) -> None:
    """Before 0007 a report suppressed the address for the candidate it named only: upgrading
    gives every candidate of the tenant holding it (ASCII case aside) a record and the flag."""
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0006")
            _insert_addresses(
                connection,
                [
                    ("c-1", "Jane.Doe@Example.COM", True),
                    ("c-2", "jane.doe@example.com", False),
                    ("c-3", "other@example.com", False),
                    ("c-4", None, False),
                ],
            )
            connection.execute(
                text(
                    "INSERT INTO suppressed_addresses VALUES "
                    "('acme', 'c-1', 'jane.doe@example.com'), "
                    "('acme', 'c-3', 'old@example.com')"  # an address c-3 no longer holds
                )
            )
        migrate_engine(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT candidate_id, address FROM suppressed_addresses")
            ).all()
            flags = connection.execute(
                text("SELECT candidate_id, email_suppressed FROM candidates")
            ).all()
    finally:
        engine.dispose()
    assert sorted(tuple(row) for row in rows) == [
        ("c-1", "jane.doe@example.com"),
        ("c-2", "jane.doe@example.com"),
        ("c-3", "old@example.com"),
    ]
    assert {c: bool(flag) for c, flag in flags} == {
        "c-1": True,
        "c-2": True,
        "c-3": False,
        "c-4": False,
    }


def test_0006_gives_credentials_that_normalise_to_nothing_their_key(database_url: str) -> None:
    """Before 0006 such a credential had no row (and as a requirement, no effect): upgrading
    makes the stored rows what credential_keys now says, for candidates and jobs alike."""
    credentials = {"c-1": ["Python", "\x1c"], "c-2": ["SQL\x1c"], "c-3": ["python", " \x1f\x1e "]}
    jobs = {"j-1": ["python", "\x1f "], "j-2": ["python"]}
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0005")
            for candidate_id, held in credentials.items():
                earlier = {norm(c) for c in held} - {""}  # what the earlier code wrote
                _insert_candidate(connection, candidate_id, credentials=held, keys=earlier)
            for job_id, required in jobs.items():
                _insert_job(
                    connection,
                    job_id,
                    required=required,
                    keys=sorted({norm(c) for c in required} - {""}),
                )
        migrate_engine(engine)
        _assert_keys_are_current(engine, credentials, jobs)
    finally:
        engine.dispose()


def test_0008_keys_credentials_spelled_as_digests_by_their_own_digest(database_url: str) -> None:
    """Before 0008 "sha256:<hex>" spelled as a credential was stored as itself, the key of the
    long credential it names; upgrading keeps real digests and re-keys the literals."""
    long_credential = "\ufdfa" * 100
    digest = _digest(norm(long_credential))
    lookalike = digest.upper()
    credentials = {
        "c-1": ["Python", lookalike],
        "c-2": ["Python", long_credential],
        "c-3": [long_credential, lookalike],  # one row before: both keys were the digest
    }
    jobs = {"j-1": ["python", lookalike], "j-2": [long_credential]}
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0007")
            for candidate_id, held in credentials.items():
                earlier = {digest if len(c) > 80 else norm(c) for c in held}
                _insert_candidate(connection, candidate_id, credentials=held, keys=earlier)
            for job_id, required in jobs.items():
                earlier = sorted({digest if len(c) > 80 else norm(c) for c in required})
                _insert_job(connection, job_id, required=required, keys=earlier)
        migrate_engine(engine)
        held_rows = _assert_keys_are_current(engine, credentials, jobs)
    finally:
        engine.dispose()
    # The long credential's digest and the lookalike's own, where one row held both before.
    assert {key for c, key in held_rows if c == "c-3"} == {digest, _digest(digest)}


def test_0008_keeps_events_with_digest_shaped_ids_processed(database_url: str) -> None:
    """Their markers were the literal text, now looked up by its digest: the event (an
    erasure, a bounce: not harmless twice) must still be a duplicate after the upgrade."""
    lookalike = _digest("some long id")
    processed = [("urn:ats:acme", lookalike), (lookalike.upper(), "e-1"), ("urn:ats:acme", "e-2")]
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0007")
            for source, event_id in processed:
                connection.execute(
                    text("INSERT INTO processed_events VALUES (:s, :e, 0)"),
                    {"s": source, "e": event_id},
                )
        migrate_engine(engine)
        with engine.begin() as connection:
            fresh = ("urn:ats:acme", "e-3")
            claims = [(key, None) for key in [*processed, fresh]]
            assert claim_unprocessed(connection, claims, datetime.now(UTC)) == {fresh}
    finally:
        engine.dispose()


def _assert_keys_are_current(
    engine: Engine, credentials: dict[str, list[str]], jobs: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """Every candidate's rows and every job's list are what credential_keys says of their
    credentials (tenant acme); returns the (candidate_id, credential) rows."""
    with engine.connect() as connection:
        held_rows = [
            (candidate_id, key)
            for candidate_id, key in connection.execute(
                text("SELECT candidate_id, credential FROM candidate_credentials")
            )
        ]
        job_keys = dict(
            connection.execute(text("SELECT job_id, required_normalised FROM jobs")).all()
        )
    for candidate_id, held in credentials.items():
        stored = {key for c, key in held_rows if c == candidate_id}
        assert stored == credential_keys(held), candidate_id
    for job_id, required in jobs.items():
        keys = job_keys[job_id]
        assert (json.loads(keys) if isinstance(keys, str) else keys) == sorted(
            credential_keys(required)
        ), job_id
    return held_rows


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _insert_addresses(
    connection: Connection, candidates: list[tuple[str, str | None, bool]]
) -> None:
    """(candidate_id, email, email_suppressed) rows, as an earlier revision left them."""
    for candidate_id, email, suppressed in candidates:
        _insert_candidate(connection, candidate_id, email=email, suppressed=suppressed)


def _insert_candidate(
    connection: Connection,
    candidate_id: str,
    *,
    email: str | None = None,
    suppressed: bool = False,
    credentials: list[str] | None = None,
    keys: Iterable[str] = (),
) -> None:
    """A candidates row as an earlier revision's code left it (tenant acme), with the
    candidate_credentials rows `keys`."""
    connection.execute(
        text(
            "INSERT INTO candidates (tenant_id, candidate_id, email, email_syntax_valid, "
            "email_status, email_suppressed, do_not_contact, credentials, applications, "
            "updated_at) VALUES ('acme', :candidate_id, :email, :valid, 'unknown', :suppressed, "
            "false, :credentials, '[]', 0)"
        ),
        {
            "candidate_id": candidate_id,
            "email": email,
            "valid": email is not None,
            "suppressed": suppressed,
            "credentials": json.dumps(credentials or []),
        },
    )
    for key in keys:
        connection.execute(
            text("INSERT INTO candidate_credentials VALUES ('acme', :c, :key)"),
            {"c": candidate_id, "key": key},
        )


def _insert_job(
    connection: Connection, job_id: str, *, required: list[str] | None = None, keys: list[str]
) -> None:
    """A jobs row as an earlier revision's code left it (tenant acme, no preferences)."""
    connection.execute(
        text(
            "INSERT INTO jobs (tenant_id, job_id, required_credentials, preferred_credentials, "
            "required_normalised, preferred_normalised) "
            "VALUES ('acme', :job_id, :required, '[]', :keys, '[]')"
        ),
        {"job_id": job_id, "required": json.dumps(required or []), "keys": json.dumps(keys)},
    )
