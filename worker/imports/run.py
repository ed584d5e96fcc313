"""The import loop: rows in, events out in acknowledged chunks, bad rows reported as they are
met. Memory is one chunk of events, whatever the file's size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from worker.imports.columns import Header, RowError, RowMapper
from worker.imports.events import IMPORT_SOURCE, candidate_event
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


@dataclass(frozen=True, slots=True)
class ImportReport:
    published: int
    bad_rows: int
    ignored_columns: tuple[str, ...]


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
    on_header: Callable[[Header], None] = lambda _h: None,
    on_bad_row: Callable[[BadRow], None] = lambda _b: None,
    on_progress: Callable[[int, int], None] = lambda _bytes, _rows: None,
    chunk: int = CHUNK,
) -> ImportReport:
    """Publish one event per good row; report every bad row (line, problems) and skip it.

    Raises HeaderError or ValueError (empty file) before anything is published. A send that
    fails raises: the chunks before it are published, and a new run republishes the same
    event ids, which the worker ignores.
    """
    header = Header.parse(csv_file.header())
    on_header(header)
    mapper = RowMapper(header, target.tenant_id, target.updated_at)
    pending: list[Outgoing] = []
    published = bad = rows = 0
    for row in csv_file.rows():
        rows += 1
        try:
            if row.error is not None:
                raise RowError([row.error])
            message = candidate_event(mapper.candidate(row.values), target.source)
        except RowError as exc:
            bad += 1
            on_bad_row(BadRow(row.line, exc.problems))
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
    return ImportReport(published=published, bad_rows=bad, ignored_columns=header.ignored)
