"""Candidate-update ingest without Kafka: the worker's `apply_batch` alone, for iterating on it.

    .venv/bin/python -m bench.ingest_profile [--events 20000] [--database both] [--profile]

The same seeded `ats.candidate.updated` snapshots as `worker_bench.py`'s ingest run, encoded
and decoded as the worker would, are applied in batches of 500, one transaction each, on a
throwaway PostgreSQL and a temporary SQLite file. Two passes over the same candidates:

- `new`: every snapshot creates its candidate (what the worker bench measures);
- `resend`: the same snapshots one day newer, content unchanged (the common steady-state
  update: an ATS re-exports candidates whose fields did not change).

Decoding is done up front and timed apart; each pass's rate covers `apply_batch` and the
commit only. With --profile, cProfile of each pass (worker/ code, cumulative) is printed.
It checks that every snapshot was applied and every candidate stored, nothing more: this is
a tool for finding where the time goes, not a target (that is `worker_bench.py`'s).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bench.support import as_messages, ingest_updates, stored_candidates, table
from bench.worker_bench import profiled
from dev.local_postgres import running
from worker.contracts.ats import CandidateUpdated
from worker.ingest.batch import Incoming, apply_batch
from worker.ingest.context import IngestConfig
from worker.ingest.loop import classify_records
from worker.kafka.records import Record
from worker.rules.model import Policy
from worker.runtime.metrics import Outcome
from worker.store.engine import create_store_engine
from worker.store.versioning import migrate_engine

TENANT = "bench"
BATCH = 500
TOPIC = "bench-candidates"


class ProfileError(RuntimeError):
    """The worker did not apply what it was given."""


def decoded(updates: Sequence[CandidateUpdated], run: str) -> tuple[list[Incoming], float]:
    """The snapshots as the loop hands them to `apply_batch`, and the seconds decoding took."""
    records = [
        Record(TOPIC, 0, offset, message.key, message.value)
        for offset, message in enumerate(as_messages(updates, run))
    ]
    started = time.perf_counter()
    incoming = classify_records(records).incoming
    seconds = time.perf_counter() - started
    if len(incoming) != len(updates):
        raise ProfileError("some snapshots did not decode")
    return incoming, seconds


def apply_all(engine: Engine, incoming: Sequence[Incoming], config: IngestConfig) -> float:
    started = time.perf_counter()
    for start in range(0, len(incoming), BATCH):
        with engine.begin() as connection:
            report = apply_batch(connection, incoming[start : start + BATCH], config)
        if any(outcome != Outcome.PROCESSED for outcome in report.outcomes):
            raise ProfileError("a fresh snapshot was not applied")
    return time.perf_counter() - started


def run(url: str, events: int, *, profile: bool) -> list[tuple[str, float]]:
    config = IngestConfig(Policy(), "bench-outreach", "urn:bench")
    first = ingest_updates(TENANT, events, seed=7)
    again = [u.model_copy(update={"updated_at": u.updated_at + timedelta(days=1)}) for u in first]
    engine = create_store_engine(url)
    try:
        migrate_engine(engine)
        backend = engine.dialect.name
        rates: list[tuple[str, float]] = []
        for name, updates in (("new", first), ("resend", again)):
            incoming, decode_s = decoded(updates, name)
            with profiled(profile, f"{backend}, {name}"):
                seconds = apply_all(engine, incoming, config)
            rates.append((f"{backend}, {name}", events / seconds))
            print(
                f"{backend} {name}: {events / seconds:,.0f} events/s "
                f"({seconds / events * 1e6:.0f} us/event; decode {decode_s / events * 1e6:.0f})",
                flush=True,
            )
        stored = stored_candidates(engine, TENANT)
        if stored != events:
            raise ProfileError(f"{stored} candidates stored, expected {events}")
        return rates
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="print cProfile of each pass")
    args = parser.parse_args()
    rates: list[tuple[str, float]] = []
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'profile.db'}"
            rates += run(url, args.events, profile=args.profile)
    if args.database in ("postgresql", "both"):
        with running() as server:
            rates += run(server.url, args.events, profile=args.profile)
    print()
    print(table(("apply_batch + commit", "events/s"), [(n, f"{r:,.0f}") for n, r in rates]))


if __name__ == "__main__":
    main()
