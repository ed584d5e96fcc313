"""Job-opened matching at scale: the SQL matcher against its floor and a naive baseline.

    .venv/bin/python -m bench.match_bench [--sizes postgresql:100000,sqlite:100000] [--plans]

For each (database, pool size): bulk-load a synthetic tenant (COPY on PostgreSQL), then in a
fresh child process (a worker's footprint, nothing else loaded):

- decide + write: `match_job` for one job in a transaction, committed (median of warm runs;
  the rows are deleted between runs);
- floor: the same ranking query alone, `EXPLAIN ANALYZE` execution time on PostgreSQL (on
  SQLite, the query's wall time with rows fetched);
- peak RSS of the child after matching (VmHWM; see `peak_rss_mb`);
- naive: load the tenant's pool into Python and filter it there (`reference_match` over the
  stored candidates), in the same child, after the RSS reading; its result must equal the SQL's.

Targets (issue 4): decide + write at 1M within 2x the floor, at least 50x faster than naive,
peak RSS under 200 MB. A throwaway PostgreSQL is started unless --postgres-url is given.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import URL, Engine, delete, make_url, text

from dev import local_postgres
from worker.rules.eligibility import effective_policy
from worker.rules.model import Job, Policy
from worker.rules.reference import reference_match
from worker.store.candidates import stream_candidates
from worker.store.columns import to_micros
from worker.store.credential_keys import credential_keys
from worker.store.engine import READ_ONLY, create_store_engine
from worker.store.jobs import load_job, upsert_job
from worker.store.matcher import match_job, ranked_query
from worker.store.outreach import past_outreach
from worker.store.schema import OutreachRow
from worker.store.versioning import migrate_engine

TENANT = "bench"
OTHER_TENANT = "noise"
JOB_ID = "job-bench"
T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SKILLS = [f"skill-{i:03}" for i in range(300)]
# Zipf-like popularity: a few skills are common, most are rare.
CUM_WEIGHTS = [sum(1 / (k + 1) ** 0.8 for k in range(i + 1)) for i in range(len(SKILLS))]
REQUIRED = ("Skill-003", "SKILL-012")  # ~22% and ~9% of candidates; spelled as ATSs do
PREFERRED = ("skill-001", "skill-040", "Skill-007")
DEFAULT_SIZES = "postgresql:100000,postgresql:1000000,sqlite:100000"
RUNS = 5

CANDIDATE_COLUMNS = (
    "tenant_id",
    "candidate_id",
    "email",
    "email_syntax_valid",
    "email_status",
    "email_suppressed",
    "do_not_contact",
    "consent_expires_at",
    "last_activity_at",
    "first_name",
    "last_name",
    "location",
    "credentials",
    "applications",
    "updated_at",
)

Row = tuple[Any, ...]


def generate(tenant: str, size: int, seed: int) -> Iterator[tuple[Row, list[str]]]:
    """Candidate rows (timestamps as epoch microseconds) and their normalised credentials."""
    rng = random.Random(seed)
    t_us = to_micros(T)
    for n in range(size):
        skills = sorted(set(rng.choices(SKILLS, cum_weights=CUM_WEIGHTS, k=rng.randint(3, 12))))
        roll = rng.random()
        email_ok = roll > 0.05
        status = "bounced" if roll > 0.97 else "valid" if roll > 0.5 else "unknown"
        consent = None
        if rng.random() < 0.1:
            consent = t_us + rng.randint(-200, 200) * 86_400_000_000
        last_activity = t_us - rng.randint(0, 1200 * 86_400_000_000)
        row = (
            tenant,
            f"cand-{n:08d}",
            f"person{n}@example.com" if email_ok else "not-an-email",
            email_ok,
            status,
            False,
            rng.random() < 0.02,
            consent,
            last_activity,
            "Ada",
            "Lovelace",
            "Lyon",
            json.dumps([s.upper() for s in skills]),
            "[]",
            t_us - 10 * 86_400_000_000,
        )
        yield row, sorted(credential_keys(skills))


def bench_job() -> Job:
    return Job(
        tenant_id=TENANT,
        job_id=JOB_ID,
        title="Data Analyst",
        required_credentials=REQUIRED,
        preferred_credentials=PREFERRED,
        opened_at=T,
    )


# -- loading ------------------------------------------------------------------------------


def _tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_postgresql(url: URL, size: int) -> None:
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for tenant, count, seed in ((TENANT, size, 1), (OTHER_TENANT, size // 10, 2)):
            _copy_postgresql(connection, tenant, count, seed)
        _past_outreach_postgresql(connection, size)
        connection.execute("VACUUM ANALYZE")


def _copy_postgresql(
    connection: psycopg.Connection[Any], tenant: str, size: int, seed: int
) -> None:
    columns = ", ".join(CANDIDATE_COLUMNS)
    chunk = 20_000
    rows = generate(tenant, size, seed)
    while True:
        candidates, credentials = io.StringIO(), io.StringIO()
        written = 0
        for row, skills in rows:
            candidates.write("\t".join(_tsv(v) for v in row) + "\n")
            credentials.writelines(f"{tenant}\t{row[1]}\t{s}\n" for s in skills)
            written += 1
            if written == chunk:
                break
        if written == 0:
            return
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY candidates ({columns}) FROM STDIN") as copy:
                copy.write(candidates.getvalue())
            with cursor.copy(
                "COPY candidate_credentials (tenant_id, candidate_id, credential) FROM STDIN"
            ) as copy:
                copy.write(credentials.getvalue())


def _past_outreach_rows(size: int) -> list[Row]:
    """Earlier outreach for other jobs: ~3% of the pool, requested over the last 60 days."""
    rng = random.Random(3)
    t_us = to_micros(T)
    rows: list[Row] = []
    for index, n in enumerate(rng.sample(range(size), size * 3 // 100)):
        job = f"job-old-{index % 50}"
        requested = t_us - rng.randint(1, 60 * 86_400_000_000)
        rows.append((f"o-{index}", TENANT, job, f"cand-{n:08d}", index // 50 + 1, requested))
    return rows


def _past_outreach_postgresql(connection: psycopg.Connection[Any], size: int) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY outreach (outreach_id, tenant_id, job_id, candidate_id, rank, requested_at, "
            "trigger) FROM STDIN"
        ) as copy,
    ):
        for row in _past_outreach_rows(size):
            copy.write_row((*row, "job.opened"))


def load_sqlite(engine: Engine, size: int) -> None:
    columns = ", ".join(CANDIDATE_COLUMNS)
    marks = ", ".join("?" * len(CANDIDATE_COLUMNS))
    chunk = 20_000
    with engine.begin() as connection:
        for tenant, count, seed in ((TENANT, size, 1), (OTHER_TENANT, size // 10, 2)):
            generated = generate(tenant, count, seed)
            while True:
                rows, credentials = [], []
                for row, skills in generated:
                    rows.append(row)
                    credentials.extend((tenant, row[1], s) for s in skills)
                    if len(rows) == chunk:
                        break
                if not rows:
                    break
                connection.exec_driver_sql(
                    f"INSERT INTO candidates ({columns}) VALUES ({marks})", rows
                )
                connection.exec_driver_sql(
                    "INSERT INTO candidate_credentials VALUES (?, ?, ?)", credentials
                )
        connection.exec_driver_sql(
            "INSERT INTO outreach (outreach_id, tenant_id, job_id, candidate_id, rank, "
            "requested_at, trigger, status) VALUES (?, ?, ?, ?, ?, ?, 'job.opened', 'requested')",
            _past_outreach_rows(size),
        )
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")


def prepare(url: URL, size: int) -> None:
    engine = create_store_engine(url)
    try:
        migrate_engine(engine)
        if url.get_backend_name() == "postgresql":
            load_postgresql(url, size)
        else:
            load_sqlite(engine, size)
        with engine.begin() as connection:
            upsert_job(connection, bench_job())
    finally:
        engine.dispose()


# -- measuring (in a child process) ----------------------------------------------------------


def measure(url: URL) -> dict[str, Any]:
    engine = create_store_engine(url)
    defaults = Policy()
    decide: list[float] = []
    requested: list[tuple[str, int]] = []
    for _ in range(RUNS + 1):  # the first run warms the caches and is not counted
        start = time.perf_counter()
        with engine.begin() as connection:
            result = match_job(connection, TENANT, JOB_ID, defaults)
        decide.append(time.perf_counter() - start)
        requested = [(r.candidate_id, r.rank) for r in result]
        with engine.begin() as connection:
            connection.execute(delete(OutreachRow).where(OutreachRow.job_id == JOB_ID))
    rss_mb = peak_rss_mb()

    with engine.connect() as connection:
        job = load_job(connection, TENANT, JOB_ID)
        assert job is not None
        policy = effective_policy(job, defaults)
        query = ranked_query(job, T, policy).limit(policy.max_outreach)
        floor, plan = _floor(connection, query)

    start = time.perf_counter()
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        pool = stream_candidates(connection, TENANT)
        naive = reference_match(job, T, policy, pool, past_outreach(connection, TENANT))
    naive_seconds = time.perf_counter() - start
    engine.dispose()
    if [(d.candidate_id, d.rank) for d in naive] != requested:
        raise AssertionError("the naive baseline and the SQL matcher disagree")
    return {
        "decide_write_s": statistics.median(decide[1:]),
        "floor_s": floor,
        "naive_s": naive_seconds,
        "rss_mb": rss_mb,
        "rss_after_naive_mb": peak_rss_mb(),
        "requested": len(requested),
        "plan": plan,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size.

    Linux's VmHWM where available: `getrusage(RUSAGE_SELF).ru_maxrss` survives exec, so a child
    started by a parent that once held a large data set reports the parent's peak instead.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(connection: Any, query: Any) -> tuple[float, list[str]]:
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    times: list[float] = []
    plan: list[str] = []
    for _ in range(RUNS + 1):
        if connection.dialect.name == "postgresql":
            result = connection.execute(
                text("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
            ).scalar_one()
            document = result if isinstance(result, list) else json.loads(result)
            times.append(document[0]["Execution Time"] / 1000)
        else:
            start = time.perf_counter()
            connection.execute(text(sql)).all()
            times.append(time.perf_counter() - start)
    if connection.dialect.name == "postgresql":
        lines = connection.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql))
        plan = [line for (line,) in lines]
    else:
        plan = [row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql))]
    return statistics.median(times[1:]), plan


# -- orchestration -------------------------------------------------------------------------


def _child(url: URL) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.match_bench", "--measure", url.render_as_string(False)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"measuring child failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _fresh_postgres_database(server_url: URL, size: int) -> URL:
    name = f"bench_{size}"
    conninfo = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.set(database=name)


def run(sizes: list[tuple[str, int]], postgres_url: str | None, show_plans: bool) -> None:
    server = None
    if postgres_url is None and any(kind == "postgresql" for kind, _ in sizes):
        server = local_postgres.start()
        postgres_url = server.url
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="reengage-bench-") as scratch:
            for kind, size in sizes:
                if kind == "postgresql":
                    assert postgres_url is not None
                    url = _fresh_postgres_database(make_url(postgres_url), size)
                else:
                    url = make_url(f"sqlite:///{Path(scratch) / f'bench_{size}.db'}")
                start = time.perf_counter()
                prepare(url, size)
                loaded = time.perf_counter() - start
                print(f"loaded {kind} {size:,} candidates in {loaded:.1f}s", flush=True)
                result = _child(url)
                results.append((kind, size, result))
                _report_one(kind, size, result, show_plans)
    finally:
        if server is not None:
            server.stop()
    _report(results)


def _report_one(kind: str, size: int, r: dict[str, Any], show_plans: bool) -> None:
    print(
        f"  {kind} {size:,}: decide+write {r['decide_write_s'] * 1000:.1f} ms, "
        f"floor {r['floor_s'] * 1000:.1f} ms, naive {r['naive_s']:.2f} s, "
        f"peak RSS {r['rss_mb']:.0f} MB ({r['requested']} requested)",
        flush=True,
    )
    if show_plans:
        print("    " + "\n    ".join(r["plan"]))


def _report(results: list[tuple[str, int, dict[str, Any]]]) -> None:
    header = (
        f"{'database':<11}{'pool':>10}{'decide+write':>14}{'floor':>10}{'x floor':>9}"
        f"{'naive':>10}{'speedup':>9}{'peak RSS':>10}"
    )
    print("\n" + header)
    print("-" * len(header))
    for kind, size, r in results:
        to_floor = r["decide_write_s"] / r["floor_s"]
        speedup = r["naive_s"] / r["decide_write_s"]
        print(
            f"{kind:<11}{size:>10,}{r['decide_write_s'] * 1000:>12.1f}ms"
            f"{r['floor_s'] * 1000:>8.1f}ms{to_floor:>8.2f}x{r['naive_s']:>9.2f}s"
            f"{speedup:>8.0f}x{r['rss_mb']:>8.0f}MB"
        )
    print("\ntargets at 1M on PostgreSQL: <= 2x floor, >= 50x naive, peak RSS < 200 MB")
    for kind, size, r in results:
        if kind == "postgresql" and size >= 1_000_000:
            checks = {
                "within 2x floor": r["decide_write_s"] <= 2 * r["floor_s"],
                ">= 50x naive": r["naive_s"] >= 50 * r["decide_write_s"],
                "RSS < 200 MB": r["rss_mb"] < 200,
            }
            print("  " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in checks.items()))


def _sizes(spec: str) -> list[tuple[str, int]]:
    sizes = []
    for item in spec.split(","):
        kind, _, size = item.partition(":")
        if kind not in ("postgresql", "sqlite"):
            raise argparse.ArgumentTypeError(f"unknown database {kind!r}")
        sizes.append((kind, int(size)))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.match_bench", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=_sizes(DEFAULT_SIZES))
    parser.add_argument("--postgres-url", help="use this server instead of a throwaway one")
    parser.add_argument("--plans", action="store_true", help="print each query plan")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(make_url(args.measure))))
        return
    run(args.sizes, args.postgres_url, args.plans)


if __name__ == "__main__":
    main()
