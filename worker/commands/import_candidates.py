"""`reengage import-candidates FILE.csv --tenant T`: publish an ATS's CSV export as
`ats.candidate.updated` events (see worker/imports), with a progress bar and a final count."""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from worker.commands.demo import parse_time
from worker.contracts.fields import TENANT_ID_PATTERN
from worker.imports.columns import COLUMNS, TIMESTAMP_HELP, Header
from worker.imports.events import IMPORT_SOURCE
from worker.imports.reader import CsvFile
from worker.imports.run import BadRow, ImportTarget, import_candidates
from worker.kafka.producer import Producer
from worker.runtime.startup import connect_or_fail
from worker.settings import Settings

BROKER = "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"
EXIT_USAGE = 2
# A backfill is throughput, not latency: fuller batches per request (still acks=all and
# idempotent, as every producer of ours).
BULK_PRODUCER = {"linger_ms": 50, "batch_size": 512 * 1024}


def epilog() -> str:
    columns = "\n".join(f"  {name:<28} {meaning}" for name, meaning in COLUMNS.items())
    return (
        f"CSV columns (a header row is required; other columns are ignored):\n{columns}\n\n"
        + textwrap.fill(
            f"{TIMESTAMP_HELP} Bad rows are reported with their line number and skipped; "
            "importing the same file again publishes the same event ids (ignored as "
            "duplicates).",
            width=88,
        )
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--updated-at",
        type=parse_time,
        default=None,
        help="the snapshot version for rows without updated_at (default: when the import "
        "starts); ATS updates older than this are then ignored as stale",
    )
    parser.add_argument(
        "--source", default=IMPORT_SOURCE, help=f"CloudEvents source (default {IMPORT_SOURCE})"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    err = Console(stderr=True, highlight=False)
    tenant = str(args.tenant)
    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        err.print(f"reengage: --tenant must match {TENANT_ID_PATTERN}", markup=False)
        return EXIT_USAGE
    path = Path(args.file)
    try:
        csv_file = CsvFile(path)
    except OSError as exc:
        err.print(f"reengage: cannot read {path}: {exc.strerror}", markup=False)
        return EXIT_USAGE
    target = ImportTarget(
        tenant_id=tenant,
        topic=settings.topic_candidates,
        updated_at=args.updated_at or datetime.now(UTC),
        source=args.source,
    )
    producer = connect_or_fail(
        lambda: Producer(settings, **BULK_PRODUCER),
        variable=BROKER,
        what="cannot reach Kafka",
        timeout_s=settings.startup_timeout_seconds,
    )
    try:
        with csv_file, _progress(err) as progress:
            task = progress.add_task("importing", total=csv_file.size, rows=0)

            def on_header(header: Header) -> None:
                if header.ignored:
                    ignored = ", ".join(header.ignored)
                    progress.console.print(f"ignoring columns: {ignored}", markup=False)

            def on_bad_row(bad: BadRow) -> None:
                problems = "; ".join(bad.problems)
                progress.console.print(f"line {bad.line}: {problems}", markup=False)

            def on_progress(done: int, rows: int) -> None:
                progress.update(task, completed=done, rows=rows)

            report = import_candidates(
                csv_file,
                target,
                producer,
                on_header=on_header,
                on_bad_row=on_bad_row,
                on_progress=on_progress,
            )
    except ValueError as exc:  # HeaderError, an empty file, bytes that are not UTF-8
        err.print(f"reengage: {path}: {exc}", markup=False)
        return EXIT_USAGE
    finally:
        producer.close()
    print(
        f"published {report.published} ats.candidate.updated events to "
        f"{settings.topic_candidates} for tenant {tenant}; "
        f"skipped {report.bad_rows} bad rows" + (" (reported above)" if report.bad_rows else ""),
        file=sys.stdout,
    )
    return 0


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=console,
    )
