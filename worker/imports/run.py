"""The import loop: rows in, events out in acknowledged chunks, bad rows reported as they are
met. Memory is one chunk of events, plus ~100 bytes a row to find repeated snapshots.

Asked to stop (SIGTERM/SIGINT), it reads no further row, sends the rows it holds, waits for
the broker's acknowledgement and says on which line it stopped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from worker.imports.columns import Header, RowError, RowMapper
from worker.imports.events import IMPORT_SOURCE, candidate_event, import_event_id
from worker.imports.reader import CsvFile
from worker.kafka.producer import Outgoing

CHUNK = 5000


class Sink(Protocol):
    """Where events go: `worker.kafka.producer.Producer` (acknowledged sends)."""

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = ...) -> None: ...


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    problems: tuple[str, ...]
    last_line: int = 0  # where the record ends, when it spans several lines

    @property
    def lines(self) -> str:
        if self.last_line > self.line:
            return f"lines {self.line}-{self.last_line}"
        return f"line {self.line}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    published: int
    bad_rows: int
    ignored_columns: tuple[str, ...]
    # Set when asked to stop before the end of the file: every line up to this one was
    # published or reported as bad; none after it was read.
    stopped_after_line: int | None = None


@dataclass(frozen=True, slots=True)
class ImportTarget:
    tenant_id: str
    topic: str
    updated_at: datetime  # for rows without an updated_at
    source: str = IMPORT_SOURCE


def import_candidates(
    csv_file: CsvFile,
    target: ImportTarget,
    sink: Sink,
    *,
    header: Header | None = None,
    on_header: Callable[[Header], None] = lambda _h: None,
    on_bad_row: Callable[[BadRow], None] = lambda _b: None,
    on_progress: Callable[[int, int], None] = lambda _bytes, _rows: None,
    stop_requested: Callable[[], bool] = lambda: False,
    chunk: int = CHUNK,
) -> ImportReport:
    """Publish one event per good row; report every bad row (line, problems) and skip it.

    `header`: the file's header row, if the caller has read it already. Raises HeaderError or
    ValueError (empty file) before anything is published. A send that
    fails raises: the chunks before it are published, and a new run with the same
    `target.updated_at` republishes the same event ids, which the worker ignores. Once
    `stop_requested()` says so, no further row is read and the rows in hand are sent.
    """
    if header is None:
        header = Header.parse(csv_file.header())
    on_header(header)
    mapper = RowMapper(header, target.tenant_id, target.updated_at)
    first_lines = _FirstLines()
    pending: list[Outgoing] = []
    published = bad = rows = 0
    stopped_after: int | None = None
    for row in csv_file.rows():
        if stop_requested():
            # `row` was read but is not handled: the last handled line is just before it.
            stopped_after = row.line - 1
            break
        rows += 1
        try:
            if row.error is not None:
                raise RowError([row.error])
            candidate = mapper.candidate(row.values)
            event_id = import_event_id(candidate)
            first_lines.claim(event_id, row.line)
            message = candidate_event(candidate, target.source, event_id)
        except RowError as exc:
            bad += 1
            on_bad_row(BadRow(row.line, exc.problems, row.last_line))
            continue
        pending.append(Outgoing(target.topic, message.key, message.value))
        if len(pending) >= chunk:
            sink.send_all(pending)
            published += len(pending)
            pending = []
            on_progress(csv_file.bytes_read, rows)
    if pending:
        sink.send_all(pending)
        published += len(pending)
    on_progress(csv_file.bytes_read, rows)
    return ImportReport(
        published=published,
        bad_rows=bad,
        ignored_columns=header.ignored,
        stopped_after_line=stopped_after,
    )


class _FirstLines:
    """The line each (candidate, updated_at) of the file was first seen on.

    Two rows of one candidate with one `updated_at` become one event id (`import_event_id`),
    so the worker would apply the first and drop the second as a duplicate, silently. The
    second is reported as a bad row instead. Keyed by the id's 128-bit integer: ~100 bytes a
    row, ~100 MB for a million."""

    def __init__(self) -> None:
        self._lines: dict[int, int] = {}

    def claim(self, event_id: str, line: int) -> None:
        key = UUID(event_id).int
        first = self._lines.setdefault(key, line)
        if first != line:
            raise RowError(
                [
                    f"updated_at: the same candidate and updated_at as line {first}, so the "
                    f"same event id; only line {first} would be applied"
                ]
            )
