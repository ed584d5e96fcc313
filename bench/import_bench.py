"""`reengage import-candidates` on large CSV exports with 1% bad rows: correctness, pace and
peak memory, against a real broker.

    .venv/bin/python -m bench.import_bench [--sizes 10000,100000] [--bootstrap HOST:PORT]

For each size, a seeded CSV is written (an unknown column included, and 1% bad rows of six
kinds at known line numbers, one of them a quoted field spanning two lines, so the reported
line numbers are checked across multi-line records). The real command runs as a child process
(`python -m worker.entry import-candidates`, a fresh topic per size); its peak RSS comes from
`os.wait4` (`ru_maxrss`). Then:

- every bad row is reported: the line numbers on stderr are exactly the planted ones;
- every good row is one event: the topic holds exactly as many events as good rows, one per
  candidate id, and nothing else.

Memory is flat when the peak RSS at the largest size is about the smallest size's: the report
prints the ratio (the issue's check: 100k rows against 10k). A header-only file gives the
command's fixed footprint (interpreter, libraries, Kafka client) for reference.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from dev.local_kafka import LocalKafka

TENANT = "bench"
HEADER = [
    "candidate_id",
    "email",
    "first_name",
    "last_name",
    "credentials",
    "notes",  # not a documented column: ignored
    "last_activity_at",
    "do_not_contact",
    "email_status",
    "updated_at",
]
SKILLS = ("Python", "SQL", "Tableau", "Excel", "Kubernetes", "CPA", "Power BI", "German (B2)")
BAD_EVERY = 100  # 1% of the rows
# A record spanning lines is reported by its range, "lines 12-13: ...": its first line counts.
_REPORTED = re.compile(r"^lines? (\d+)(?:-\d+)?: ", re.MULTILINE)


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    good: int
    bad_lines: frozenset[int]


@dataclass(frozen=True)
class Measured:
    rows: int
    good: int
    bad: int
    seconds: float
    peak_rss_mb: float
    events_on_topic: int
    distinct_candidates: int
    reported_ok: bool


def good_row(rnd: random.Random, n: int) -> list[str]:
    days = rnd.randint(1, 900)
    return [
        f"C-{n:07d}",
        f"person{n}@example.com",
        rnd.choice(("Ada", "Grace", "Noël", "Zoë", "Linus")),
        rnd.choice(("Lovelace", "Hopper", "Gárate", "Torvalds")),
        ";".join(rnd.sample(SKILLS, rnd.randint(1, 4))),
        rnd.choice(("", "met at a fair", 'said "call me, maybe"')),
        f"2025-{1 + days % 12:02d}-{1 + days % 28:02d}",
        rnd.choice(("no", "no", "no", "yes", "")),
        rnd.choice(("unknown", "valid", "")),
        "2026-01-01T00:00:00Z",
    ]


def bad_row(kind: int, n: int, rnd: random.Random) -> list[str]:
    row = good_row(rnd, n)
    match kind % 6:
        case 0:
            row[0] = ""  # no candidate id
        case 1:
            row[7] = "maybe"  # do_not_contact
        case 2:
            row[6] = "2025-03-01T10:00:00"  # no offset
        case 3:
            row.append("an extra field")
        case 4:
            row[1] = "x" * 300 + "@example.com"  # too long
        case _:
            row[8] = "gone"  # not an email status
            row[5] = "a note\nover two lines"
    return row


def write_csv(path: Path, rows: int, seed: int = 7) -> Written:
    rnd = random.Random(seed)
    bad_lines: set[int] = set()
    line = 1  # the header
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            row = bad_row(n // BAD_EVERY, n, rnd) if n % BAD_EVERY == 0 else good_row(rnd, n)
            line += 1
            if n % BAD_EVERY == 0:
                bad_lines.add(line)
            writer.writerow(row)
            line += sum(cell.count("\n") for cell in row)
    return Written(path, rows, rows - len(bad_lines), frozenset(bad_lines))


def run_import(
    bootstrap: str, written: Written, topic: str, workdir: Path
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stderr of one `reengage import-candidates` run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
    env.update(
        {
            "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "REENGAGE_TOPIC_CANDIDATES": topic,
            "REENGAGE_LOG_LEVEL": "WARNING",
        }
    )
    err_path = workdir / f"{topic}.stderr"
    command = [sys.executable, "-m", "worker.entry", "import-candidates", str(written.path)]
    command += ["--tenant", TENANT]
    started = time.monotonic()
    with err_path.open("wb") as err:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        raise SystemExit(f"import-candidates exited {child.returncode}:\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stderr


def read_topic(bootstrap: str, topic: str) -> tuple[int, int, bool]:
    """(events, distinct candidate ids, all of them ats.candidate.updated for the tenant)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        events = 0
        ids: set[str] = set()
        well_formed = True
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for record in records:
                    event = json.loads(record.value)
                    events += 1
                    ids.add(event["data"]["candidate_id"])
                    well_formed &= event["type"] == "ats.candidate.updated"
                    well_formed &= event["data"]["tenant_id"] == TENANT
        return events, len(ids), well_formed
    finally:
        consumer.close()


def measure(bootstrap: str, rows: int, workdir: Path) -> Measured:
    written = write_csv(workdir / f"export-{rows}.csv", rows)
    topic = f"import-bench-{rows}-{uuid.uuid4().hex[:6]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}})
    finally:
        admin.close()
    seconds, rss, stderr = run_import(bootstrap, written, topic, workdir)
    reported = {int(n) for n in _REPORTED.findall(stderr)}
    events, distinct, well_formed = read_topic(bootstrap, topic)
    return Measured(
        rows=rows,
        good=written.good,
        bad=len(written.bad_lines),
        seconds=seconds,
        peak_rss_mb=rss,
        events_on_topic=events,
        distinct_candidates=distinct,
        reported_ok=reported == written.bad_lines and well_formed,
    )


@contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    if bootstrap:
        yield bootstrap
        return
    with LocalKafka(num_partitions=3) as kafka:
        yield kafka.bootstrap_servers


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench")
    parser.add_argument("--sizes", default="10000,100000", help="row counts, comma-separated")
    parser.add_argument("--bootstrap", help="an existing broker (default: start a local one)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with broker(args.bootstrap) as bootstrap, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        header_only = write_csv(workdir / "export-0.csv", 0)
        _, baseline_rss, _ = run_import(bootstrap, header_only, "import-bench-empty", workdir)
        results = [measure(bootstrap, rows, workdir) for rows in sizes]
    print(f"fixed footprint (header-only file): peak RSS {baseline_rss:.1f} MB")
    print(
        f"{'rows':>9} {'good':>9} {'bad':>6} {'events':>9} {'distinct':>9} {'reported':>8} "
        f"{'seconds':>8} {'rows/s':>8} {'peak RSS MB':>11}"
    )
    ok = True
    for m in results:
        correct = m.events_on_topic == m.good == m.distinct_candidates and m.reported_ok
        ok &= correct
        print(
            f"{m.rows:>9} {m.good:>9} {m.bad:>6} {m.events_on_topic:>9} "
            f"{m.distinct_candidates:>9} {'all' if m.reported_ok else 'NO':>8} "
            f"{m.seconds:>8.1f} {m.rows / m.seconds:>8.0f} {m.peak_rss_mb:>11.1f}"
        )
    smallest, largest = results[0], results[-1]
    ratio = largest.peak_rss_mb / smallest.peak_rss_mb
    print(
        f"peak RSS at {largest.rows} rows / at {smallest.rows} rows: {ratio:.2f} "
        f"(1.00 is flat; rows grew {largest.rows / smallest.rows:.0f}x)"
    )
    print("every good row one event, every bad row reported: " + ("yes" if ok else "NO"))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
