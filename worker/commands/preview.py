"""`reengage preview`: who would be requested for a stored job, who not and why; writes nothing.

The requested list comes from the SQL matcher's ranking query (the same one the worker
claims with), so the dry run cannot disagree with a real match. The per-rule counts stream
the tenant's pool once through the reference rules, keeping none of it: a diagnostic that
costs a pass over the pool, never its memory.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import URL, Connection

from worker.preview.render import render_json, render_table
from worker.preview.report import Contact, Explained, PreviewReport, RequestedRow
from worker.rules.eligibility import effective_policy
from worker.rules.model import Candidate, Job, Policy
from worker.rules.ranking import remaining_capacity
from worker.rules.reason import build_reason
from worker.rules.reference import Decision, exclusion_counts, outcome_for
from worker.runtime.shutdown import Interrupted, Shutdown
from worker.runtime.startup import check_database
from worker.settings import ConfigurationError, Settings
from worker.store.candidates import load_candidates, stream_candidates
from worker.store.engine import READ_ONLY, create_store_engine
from worker.store.jobs import load_job
from worker.store.matcher import ranked_candidates, requests_for_job
from worker.store.outreach import past_outreach
from worker.store.versioning import SchemaOutdatedError

EXIT_NOT_FOUND = 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    at: datetime | None = args.at
    missing = _missing_sqlite_file(settings.database)
    if missing is not None:
        # Connecting would create it, empty (a dry run must not); the answer is known anyway.
        if not missing.parent.is_dir():
            raise ConfigurationError(
                "REENGAGE_DATABASE_URL",
                "cannot reach the database: the SQLite file's directory does not exist",
            )
        raise ConfigurationError("REENGAGE_DATABASE_URL", str(SchemaOutdatedError()))
    shutdown = Shutdown().install()
    engine = create_store_engine(settings.database)
    try:
        check_database(engine, settings.startup_timeout_seconds, shutdown)
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            job = load_job(connection, args.tenant, args.job)
            if job is None:
                print(
                    f"reengage: tenant {args.tenant!r} has no stored job {args.job!r}",
                    file=sys.stderr,
                )
                return EXIT_NOT_FOUND
            report = build_report(
                connection,
                job,
                at or job.opened_at,
                settings.policy,
                args.explain,
                shutdown=shutdown,
            )
    finally:
        engine.dispose()
    if args.json:
        print(render_json(report))
    else:
        render_table(report, Console())
    return 0


def _until(shutdown: Shutdown, candidates: Iterator[Candidate]) -> Iterator[Candidate]:
    """The pass over the pool, given up on a signal: a dry run has nothing to finish."""
    for candidate in candidates:
        if shutdown.requested:
            raise Interrupted
        yield candidate


def _missing_sqlite_file(url: URL) -> Path | None:
    """The SQLite file the URL names when it does not exist, else None."""
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None  # a server, or an SQLite URI filename (file:…), which we do not parse
    name = url.database or ""
    if name in ("", ":memory:") or Path(name).exists():
        return None
    return Path(name)


def build_report(
    connection: Connection,
    job: Job,
    at: datetime,
    defaults: Policy,
    explain_candidate: str | None = None,
    *,
    shutdown: Shutdown | None = None,
) -> PreviewReport:
    policy = effective_policy(job, defaults)
    before = requests_for_job(connection, job.tenant_id, job.job_id)
    room = remaining_capacity(before, policy.max_outreach)
    ranked = list(ranked_candidates(connection, job, at, policy, limit=room)) if room else []
    chosen = load_candidates(connection, job.tenant_id, (r.candidate_id for r in ranked))
    requested = tuple(
        RequestedRow(
            Decision(
                job_id=job.job_id,
                candidate_id=r.candidate_id,
                rank=before + position,
                inactive_days=r.inactive_days,
                preferred_matched=r.preferred_matched,
                reason=build_reason(chosen[r.candidate_id], job, at),
            ),
            Contact.of(chosen[r.candidate_id]),
        )
        for position, r in enumerate(ranked, start=1)
    )
    history = past_outreach(connection, job.tenant_id)
    pool = stream_candidates(connection, job.tenant_id)
    exclusions = exclusion_counts(
        job, at, policy, pool if shutdown is None else _until(shutdown, pool), history
    )
    explained = None
    if explain_candidate is not None:
        found = load_candidates(connection, job.tenant_id, [explain_candidate], pool_only=True)
        candidate = found.get(explain_candidate)
        explained = Explained(
            explain_candidate,
            None
            if candidate is None
            else outcome_for(
                candidate, job, at, policy, history, decisions=[row.decision for row in requested]
            ),
            None if candidate is None else Contact.of(candidate),
        )
    return PreviewReport(
        job=job,
        at=at,
        policy=policy,
        requests_before=before,
        requested=requested,
        exclusions=exclusions,
        explained=explained,
    )
