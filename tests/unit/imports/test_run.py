"""The import loop over a real file, with a sink that records what a producer would send:
every good row one event, every bad row reported with the line it starts on, chunks bounded."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.contracts.ats import CandidateUpdated
from worker.contracts.decode import Decoded, decode
from worker.imports.columns import HeaderError
from worker.imports.events import import_event_id
from worker.imports.reader import FIELD_LIMIT, CsvFile
from worker.imports.run import BadRow, ImportTarget, import_candidates
from worker.kafka.producer import Outgoing

TARGET = ImportTarget(
    tenant_id="acme", topic="ats.candidates", updated_at=datetime(2026, 2, 1, tzinfo=UTC)
)


class RecordingSink:
    """The producer seam (`send_all`), keeping what it was given."""

    def __init__(self) -> None:
        self.batches: list[list[Outgoing]] = []

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        self.batches.append(list(messages))

    @property
    def sent(self) -> list[Outgoing]:
        return [m for batch in self.batches for m in batch]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, chunk: int = 1000) -> tuple[RecordingSink, list[BadRow], int, int]:
    sink = RecordingSink()
    bad: list[BadRow] = []
    with CsvFile(path) as csv_file:
        report = import_candidates(csv_file, TARGET, sink, on_bad_row=bad.append, chunk=chunk)
    return sink, bad, report.published, report.bad_rows


def test_good_rows_become_events_and_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv",
        "\ufeffcandidate_id,email,credentials,do_not_contact,notes\n"
        "C-1,ada@example.com,Python;SQL,no,likes tea\n"
        "\n"
        ',broken@example.com,,no,"a note\nover two lines"\n'
        'C-2,grace@example.com,"COBOL",yes,"quoted, with a comma"\n'
        "C-3,linus@example.com,C,maybe,\n"
        "C-4,margaret@example.com,,,\n",
    )
    sink, bad, published, bad_count = run(path)
    assert (published, bad_count) == (3, 2)
    assert [(b.line, b.problems[0].split(":")[0]) for b in bad] == [
        (4, "candidate_id"),
        (7, "do_not_contact"),
    ]
    events = [decode(m.value, frozenset({"ats.candidate.updated"})) for m in sink.sent]
    assert all(isinstance(e, Decoded) for e in events)
    datas = [json.loads(m.value)["data"] for m in sink.sent]
    assert [d["candidate_id"] for d in datas] == ["C-1", "C-2", "C-4"]
    assert datas[0]["credentials"] == ["Python", "SQL"]
    assert datas[1]["do_not_contact"] is True
    assert [m.key for m in sink.sent] == [b"acme:C-1", b"acme:C-2", b"acme:C-4"]
    assert {m.topic for m in sink.sent} == {"ats.candidates"}


def test_events_carry_stable_ids_so_a_second_import_is_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", "candidate_id\nC-1\nC-2\n")
    first, *_ = run(path)
    second, *_ = run(path)
    assert [m.value for m in first.sent] == [m.value for m in second.sent]
    ids = [json.loads(m.value)["id"] for m in first.sent]
    assert len(set(ids)) == 2


def test_the_event_id_changes_with_the_snapshot_version() -> None:
    ids = {
        import_event_id(
            CandidateUpdated(
                tenant_id="acme", candidate_id="C-1", updated_at=datetime(2026, 1, day, tzinfo=UTC)
            )
        )
        for day in (1, 2)
    }
    assert len(ids) == 2


def test_sends_go_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate_id"])
        writer.writerows([f"C-{i}"] for i in range(2_345))
    sink, bad, published, _ = run(path, chunk=500)
    assert published == 2_345 and not bad
    assert [len(b) for b in sink.batches] == [500, 500, 500, 500, 345]


def test_a_file_without_the_required_column_publishes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", "id,email\n1,a@example.com\n")
    sink = RecordingSink()
    with CsvFile(path) as csv_file, pytest.raises(HeaderError):
        import_candidates(csv_file, TARGET, sink)
    assert sink.batches == []


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.csv", "")
    with CsvFile(path) as csv_file, pytest.raises(ValueError, match="empty"):
        import_candidates(csv_file, TARGET, RecordingSink())


def test_a_field_beyond_the_csv_limit_is_one_bad_row(tmp_path: Path) -> None:
    huge = "x" * (FIELD_LIMIT + 10)
    path = write(tmp_path / "export.csv", f"candidate_id,notes\nC-1,{huge}\nC-2,ok\n")
    _, bad, published, _ = run(path)
    assert published == 1
    assert [b.line for b in bad] == [2]
    assert "not readable as CSV" in bad[0].problems[0]


def test_a_long_note_in_an_ignored_column_is_no_problem(tmp_path: Path) -> None:
    note = "x" * 300_000  # over Python's default field limit of 128 KiB
    path = write(tmp_path / "export.csv", f"candidate_id,notes\nC-1,{note}\nC-2,ok\n")
    assert run(path)[1:] == ([], 2, 0)


def test_a_stray_quote_that_swallows_rows_is_reported_with_every_line_it_took(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "export.csv",
        "candidate_id,email,first_name,location\n"
        'A-1,a@example.com,"Ann,Berlin\n'  # the quote is never closed on this line...
        'A-2,b@example.com,O"Brien,Paris\n'  # ...and this row becomes part of A-1's name
        'A-3,c@example.com,Cy,"Berlin\nMitte"\n',  # a cell on two lines, on purpose
    )
    sink, bad, published, _ = run(path)
    assert [(b.lines, b.problems) for b in bad] == [
        ("lines 2-3", ("first_name: holds the lines after it (an unbalanced quote?)",))
    ]
    assert published == 1
    assert json.loads(sink.sent[0].value)["data"]["location"] == "Berlin\nMitte"


def test_a_stray_quote_in_a_column_that_is_not_read_is_reported_too(tmp_path: Path) -> None:
    """Before, only the columns read were looked at: C-2 and C-3 vanished into C-1's notes,
    with no bad row reported and exit 0."""
    path = write(
        tmp_path / "export.csv",
        "candidate_id,email,notes\n"
        'C-1,a@example.com,"open note\n'
        "C-2,b@example.com,fine\n"
        "C-3,c@example.com,fine\n",
    )
    _, bad, published, _ = run(path)
    assert [(b.lines, b.problems) for b in bad] == [
        ("lines 2-4", ("column 3 (not read): holds the lines after it (an unbalanced quote?)",))
    ]
    assert published == 0


def test_a_byte_that_is_not_utf8_is_one_bad_row_and_the_rest_go_out(tmp_path: Path) -> None:
    rows = [f"C-{n},person{n}@example.com\n".encode() for n in range(1, 20_001)]
    rows[7_999] = "C-8000,Ren\u00e9e@example.com\n".encode("latin-1")  # line 8001
    path = tmp_path / "export.csv"
    path.write_bytes(b"candidate_id,email\n" + b"".join(rows))
    sink, bad, published, bad_count = run(path)
    assert (published, bad_count) == (19_999, 1)
    assert [(b.line, b.problems) for b in bad] == [
        (8001, ("not UTF-8 text (save the export as UTF-8)",))
    ]
    assert "C-8001" in {json.loads(m.value)["data"]["candidate_id"] for m in sink.sent}


def test_a_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("candidate_id,pr\u00e9nom\nC-1,x\n".encode("latin-1"))
    with CsvFile(path) as csv_file, pytest.raises(ValueError, match="not UTF-8"):
        import_candidates(csv_file, TARGET, RecordingSink())


def test_a_stop_request_sends_the_rows_in_hand_and_says_where_it_stopped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv", "candidate_id,do_not_contact\nC-1,no\nC-2,maybe\nC-3,\nC-4,\n"
    )
    answers = iter([False, False, True])  # asked before each row: stop when the third is read
    sink = RecordingSink()
    bad: list[BadRow] = []
    with CsvFile(path) as csv_file:
        report = import_candidates(
            csv_file,
            TARGET,
            sink,
            on_bad_row=bad.append,
            stop_requested=lambda: next(answers),
            chunk=1000,
        )
    assert [json.loads(m.value)["data"]["candidate_id"] for m in sink.sent] == ["C-1"]
    assert [b.line for b in bad] == [3]
    assert (report.published, report.bad_rows, report.stopped_after_line) == (1, 1, 3)


def test_a_file_read_to_the_end_reports_no_stop(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", "candidate_id\nC-1\n")
    with CsvFile(path) as csv_file:
        report = import_candidates(csv_file, TARGET, RecordingSink(), stop_requested=lambda: False)
    assert (report.published, report.stopped_after_line) == (1, None)


def test_a_second_row_of_one_candidate_at_one_time_is_a_bad_row(tmp_path: Path) -> None:
    """Its event id would be the first row's, and the worker would drop it unseen."""
    path = write(
        tmp_path / "export.csv",
        "candidate_id,email,updated_at\n"
        "C-1,ada@example.com,2026-01-05T00:00:00Z\n"
        "C-1,ada@example.org,2026-01-05T01:00:00+01:00\n"  # the same instant
        "C-1,ada@example.net,2026-01-06T00:00:00Z\n"
        "C-2,grace@example.com,2026-01-05T00:00:00Z\n",
    )
    sink, bad, published, bad_count = run(path)
    assert (published, bad_count) == (3, 1)
    assert [(b.line, b.problems) for b in bad] == [
        (
            3,
            (
                "updated_at: the same candidate and updated_at as line 2, so the same event id;"
                " only line 2 would be applied",
            ),
        )
    ]
    assert len({json.loads(m.value)["id"] for m in sink.sent}) == 3
