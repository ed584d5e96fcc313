"""Streaming a CSV export: one row at a time with the line it starts on, and how far into the
file we are (for the progress bar). Nothing is held beyond the current row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Python's default (128 KiB) refuses a row for a long free-text cell in a column we ignore
# (notes, a pasted CV); rows are read one at a time, so a larger one costs only that row.
FIELD_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line the record starts on (a quoted field may span lines)
    values: list[str]
    # Set when the CSV itself is broken here (e.g. a field over the size limit).
    error: str | None = None
    last_line: int = 0  # the line it ends on (0: the one it starts on)


class CsvFile:
    """A UTF-8 CSV file (a byte-order mark, as Excel writes, is fine), read once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._raw: BinaryIO = path.open("rb")
        self._seekable = self._raw.seekable()
        # A byte that is not UTF-8 becomes a lone surrogate instead of ending the read: it is
        # one bad row (reported by line, as any other), and the rows after it still go out.
        self._text = io.TextIOWrapper(
            self._raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        csv.field_size_limit(FIELD_LIMIT)
        self._reader = csv.reader(self._text, strict=False)
        self._line = 0

    @property
    def line(self) -> int:
        """The last line read so far (the header's, before the first row)."""
        return self._line

    @property
    def bytes_read(self) -> int:
        """Bytes handed to the decoder so far (it reads ahead in blocks); 0 for a pipe, such
        as `<(gunzip -c export.csv.gz)`, which has no position (nor a size)."""
        return self._raw.tell() if self._seekable else 0

    def header(self) -> list[str]:
        """The first row; raises ValueError for an empty file."""
        try:
            names = next(self._reader)
        except StopIteration:
            raise ValueError("the file is empty") from None
        self._line = self._reader.line_num
        if not _utf8(names):
            raise ValueError("the header line is not UTF-8 text")
        return names

    def rows(self) -> Iterator[Row]:
        """The data rows after the header; blank lines are skipped."""
        while True:
            start = self._line + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._line = self._reader.line_num
                yield Row(start, [], f"not readable as CSV ({exc})", self._line)
                continue
            self._line = self._reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if not _utf8(values):
                yield Row(start, [], "not UTF-8 text (save the export as UTF-8)", self._line)
                continue
            yield Row(start, values, last_line=self._line)

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _utf8(values: list[str]) -> bool:
    """False when a value holds a byte the decoder could not read (a lone surrogate)."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
