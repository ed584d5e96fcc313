"""`reengage import-candidates FILE.csv --tenant T`: publish an ATS's CSV export as
`ats.candidate.updated` events (see worker/imports), with a progress bar and a final count.

SIGTERM/SIGINT: the rows in hand are sent and acknowledged, then the command says on which
line it stopped and exits 0, as OPERATIONS.md has every command do after a signal. A script
tells a partial import from a whole one by the `interrupted:` line on standard error.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from worker.commands.arguments import parse_time
from worker.contracts.fields import TENANT_ID_PATTERN, format_timestamp
from worker.errors import TransientError
from worker.imports.columns import COLUMNS, TIMESTAMP_HELP, Header, timestamp_text
from worker.imports.events import IMPORT_SOURCE
from worker.imports.reader import CsvFile
from worker.imports.run import BadRow, ImportReport, ImportTarget, import_candidates
from worker.kafka.producer import Producer
from worker.runtime.shutdown import Interrupted, Shutdown
from worker.runtime.startup import connect_to_broker
from worker.settings import Settings

EXIT_USAGE = 2
EXIT_FAILED = 1
# After a signal, as every command (OPERATIONS.md); standard error says where it stopped.
EXIT_INTERRUPTED = 0
# A backfill is throughput, not latency: fuller batches per request (still acks=all and
# idempotent, as every producer of ours).
BULK_PRODUCER: dict[str, Any] = {"linger_ms": 50, "batch_size": 512 * 1024}


def epilog() -> str:
    columns = "\n".join(f"  {name:<28} {meaning}" for name, meaning in COLUMNS.items())
    return (
        f"CSV columns (a header row is required; other columns are ignored):\n{columns}\n\n"
        + "\n\n".join(
            textwrap.fill(paragraph, width=88, break_on_hyphens=False)
            for paragraph in (
                f"{TIMESTAMP_HELP} Bad rows are reported with their line number and skipped.",
                "Event ids are derived from tenant, candidate_id and updated_at. Importing "
                "the same file again publishes the same ids (the worker ignores them: "
                "duplicates, or stale once their markers expired) only when every row has "
                "updated_at or the same --updated-at is given; otherwise the rows without "
                "updated_at get the new import's start time, new ids, and are stored again "
                "as newer snapshots of the same data.",
                "Exit codes: 0 the whole file was read (bad rows included), or SIGTERM or "
                "SIGINT stopped it (the rows already read are published; a line starting "
                "'reengage: interrupted' on standard error gives the last line handled and "
                "the --updated-at to re-run with); 2 a bad argument, file or setting (such "
                "as an unreachable broker); 1 anything unexpected.",
            )
        )
    )


def _updated_at(text: str) -> datetime:
    """argparse type for --updated-at: the forms the CSV's timestamp cells take."""
    return parse_time(timestamp_text(text.strip()) or text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--updated-at",
        type=_updated_at,
        default=None,
        help="the snapshot version for rows without updated_at, written as in the cells "
        "(default: when the import "
        "starts; the same value again gives the same event ids); ATS updates older than "
        "this are then ignored as stale",
    )
    parser.add_argument(
        "--source", default=IMPORT_SOURCE, help=f"CloudEvents source (default {IMPORT_SOURCE})"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    # soft_wrap: one line per message whatever the width (logs are grepped by `line N:`).
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    tenant = str(args.tenant)
    if not re.fullmatch(TENANT_ID_PATTERN, tenant):
        err.print(f"reengage: --tenant must match {TENANT_ID_PATTERN}", markup=False)
        return EXIT_USAGE
    source = str(args.source)
    if not source.strip() or len(source) > 1024 or "\0" in source:
        # The events' CloudEvents source (half their identity): refused before any row.
        err.print("reengage: --source must be 1-1024 characters, not blank", markup=False)
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
        source=source,
    )
    with csv_file:
        try:
            # Before the broker: a wrong file is told at once, not after the start-up wait.
            header = Header.parse(csv_file.header())
        except ValueError as exc:  # HeaderError, an empty file, a header that is not UTF-8
            err.print(f"reengage: {path}: {exc}", markup=False)
            return EXIT_USAGE
        return _import(csv_file, header, target, settings, err)


def _import(
    csv_file: CsvFile, header: Header, target: ImportTarget, settings: Settings, err: Console
) -> int:
    shutdown = Shutdown().install()
    try:
        producer = connect_to_broker(
            lambda: Producer(settings, shutdown=shutdown, **BULK_PRODUCER),
            timeout_s=settings.startup_timeout_seconds,
            shutdown=shutdown,
        )
    except Interrupted:
        err.print("reengage: interrupted before anything was published", markup=False)
        return EXIT_INTERRUPTED
    try:
        report = _publish(
            csv_file, header, target=target, producer=producer, shutdown=shutdown, err=err
        )
    except ValueError as exc:  # bytes that are not UTF-8
        err.print(f"reengage: {csv_file.path}: {exc}", markup=False)
        return EXIT_USAGE
    except (KafkaError, TransientError) as exc:
        # The broker did not acknowledge a chunk (an outage, a topic it will not create), or
        # a signal broke off the wait for it. The chunks before it are published; the way
        # to finish keeps their event ids, so the worker ignores them the second time.
        interrupted = shutdown.requested
        what = "interrupted" if interrupted else "the broker did not take the rows in hand"
        err.print(
            f"reengage: {what} ({type(exc).__name__}); any rows sent before them are "
            "published; "
            f"to finish, {_rerun_hint(target)}",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED if interrupted else EXIT_FAILED
    except KeyboardInterrupt:
        # A second signal: the rows in hand may or may not have been acknowledged.
        err.print(
            "reengage: interrupted again, without waiting for the rows in hand; "
            f"{_rerun_hint(target)}",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_INTERRUPTED
    finally:
        # After a signal the rows in hand are reported unacknowledged already: a hung
        # broker must not hold the exit for close()'s own 10 s.
        producer.close(timeout_s=1.0 if shutdown.requested else 10.0)
    return _summarise(report, target, csv_file.path, err)


def _publish(
    csv_file: CsvFile,
    header: Header,
    *,
    target: ImportTarget,
    producer: Producer,
    shutdown: Shutdown,
    err: Console,
) -> ImportReport:
    with _progress(err) as progress:
        task = progress.add_task("importing", total=csv_file.size, rows=0)

        def on_header(header: Header) -> None:
            if header.ignored:
                ignored = ", ".join(header.ignored)
                progress.console.print(f"ignoring columns: {ignored}", markup=False)

        def on_bad_row(bad: BadRow) -> None:
            problems = "; ".join(bad.problems)
            progress.console.print(f"{bad.lines}: {problems}", markup=False)

        def on_progress(done: int, rows: int) -> None:
            progress.update(task, completed=done, rows=rows)

        return import_candidates(
            csv_file,
            target,
            producer,
            header=header,
            on_header=on_header,
            on_bad_row=on_bad_row,
            on_progress=on_progress,
            stop_requested=lambda: shutdown.requested,
        )


def _summarise(report: ImportReport, target: ImportTarget, path: Path, err: Console) -> int:
    print(
        f"published {report.published} ats.candidate.updated events to {target.topic} for "
        f"tenant {target.tenant_id}; skipped {report.bad_rows} bad rows"
        + (" (reported above)" if report.bad_rows else ""),
        file=sys.stdout,
    )
    if report.stopped_after_line is None:
        return 0
    err.print(
        f"reengage: interrupted: stopped after line {report.stopped_after_line} of {path} "
        f"(the lines after it were not read); to finish, {_rerun_hint(target)}",
        markup=False,
        soft_wrap=True,
    )
    return EXIT_INTERRUPTED


def _rerun_hint(target: ImportTarget) -> str:
    """How to re-run so that the rows already published keep their event ids."""
    version = format_timestamp(target.updated_at)
    return f"run the import again with --updated-at {version} (the same event ids)"


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=console,
    )
