"""The CSV columns `reengage import-candidates` reads, and one row turned into the `data` of an
`ats.candidate.updated` event. Pure: no file, no broker.

Header names are matched without regard to case or surrounding spaces; columns not listed
here are ignored (and named once, so a typo is visible). Every value is trimmed; an empty cell
means "not given".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from worker.contracts.ats import CandidateUpdated
from worker.contracts.fields import (
    EARLIEST,
    FALLBACK_BRANCHES,
    LATEST_EXCLUSIVE,
    VALUE_BRANCH,
)

# name -> what it holds; the order is the documentation's (README, --help).
COLUMNS: dict[str, str] = {
    "candidate_id": "required; the ATS's id of the candidate (1-128 characters)",
    "email": "the address as the ATS has it (a malformed one is stored, never contacted)",
    "first_name": "optional",
    "last_name": "optional",
    "credentials": "skills, certificates, licences, separated by ';' or '|'",
    "location": "optional",
    "last_activity_at": "last time the candidate did something (timestamp or date)",
    "do_not_contact": "true/false, yes/no, 1/0; empty means false",
    "email_status": "unknown, valid, bounced or invalid; empty means unknown",
    "consent_expires_at": "when contact consent ends (timestamp or date)",
    "updated_at": "the snapshot's version (timestamp); default: --updated-at",
    "last_application_job_id": "the candidate's most recent application: job id",
    "last_application_job_title": "... its job title",
    "last_application_applied_at": "... when (timestamp or date)",
    "last_application_status": "... the ATS's status word (e.g. rejected)",
}
REQUIRED = ("candidate_id",)
TIMESTAMP_HELP = (
    "Timestamps are RFC 3339 with an offset (2025-03-01T10:00:00Z, a space instead of the T "
    "is fine); a plain date (2025-03-01) means midnight UTC. A time without an offset is "
    "refused: it would be guessed."
)

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FIRST_DAY = EARLIEST.date().isoformat()
_LAST_DAY = (LATEST_EXCLUSIVE.date() - timedelta(days=1)).isoformat()
_SPACED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:)")
_SEPARATORS = re.compile(r"[;|]")
_APPLICATION_FIELDS = {
    "job_id": "last_application_job_id",
    "job_title": "last_application_job_title",
    "applied_at": "last_application_applied_at",
    "status": "last_application_status",
}


class HeaderError(ValueError):
    """The header row cannot be used (e.g. no candidate_id column)."""


class RowError(ValueError):
    """A row that cannot become an event; `problems` name columns, never their values."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Header:
    """Where each known column is in a row, and which header names were ignored."""

    positions: dict[str, int]
    ignored: tuple[str, ...]
    width: int

    @classmethod
    def parse(cls, names: Sequence[str]) -> Header:
        positions: dict[str, int] = {}
        ignored: list[str] = []
        for index, raw in enumerate(names):
            name = raw.strip().lower()
            if name in COLUMNS and name not in positions:
                positions[name] = index
            elif name in COLUMNS:
                ignored.append(f"{raw.strip()} (column {index + 1}: the first {name} is read)")
            elif raw.strip():
                ignored.append(raw.strip())
        missing = [c for c in REQUIRED if c not in positions]
        if missing:
            raise HeaderError(f"the header has no {', '.join(missing)} column")
        return cls(positions, tuple(ignored), len(names))

    def name_of(self, index: int) -> str:
        """The column's name as problems give it: a known one's, else its number."""
        for name, position in self.positions.items():
            if position == index:
                return name
        return f"column {index + 1} (not read)"


class RowMapper:
    """Turns rows of one file into validated `CandidateUpdated` data."""

    def __init__(self, header: Header, tenant_id: str, default_updated_at: datetime) -> None:
        self._header = header
        self._tenant_id = tenant_id
        self._default_updated_at = default_updated_at

    def candidate(self, row: Sequence[str]) -> CandidateUpdated:
        """Raises RowError naming what is wrong."""
        if len(row) != self._header.width:
            raise RowError([f"{len(row)} fields where the header has {self._header.width}"])
        cell = self._cells(row)
        # Every cell, read or not: a stray quote in a column nobody reads (free-text notes)
        # swallows the rows after it as surely as one in a name.
        swallowed = [self._header.name_of(i) for i, value in enumerate(row) if _holds_rows(value)]
        if swallowed:
            raise RowError(
                [f"{name}: holds the lines after it (an unbalanced quote?)" for name in swallowed]
            )
        problems: list[str] = []
        data: dict[str, Any] = {"tenant_id": self._tenant_id}
        for name in ("email", "first_name", "last_name", "location"):
            data[name] = cell.get(name) or None
        # Given as text even when empty, so that an empty cell reads "at least 1 character"
        # rather than the model's "a valid string" for a missing value.
        data["candidate_id"] = cell.get("candidate_id", "")
        credentials = _SEPARATORS.split(cell.get("credentials", ""))
        data["credentials"] = [c for c in credentials if c.strip()]
        data["email_status"] = cell.get("email_status", "").lower() or "unknown"
        try:
            data["do_not_contact"] = _boolean(cell.get("do_not_contact", ""))
        except ValueError:
            problems.append("do_not_contact: expected true/false, yes/no or 1/0")
        for name in ("last_activity_at", "consent_expires_at"):
            data[name] = timestamp_text(cell.get(name, ""))
        updated = cell.get("updated_at", "")
        data["updated_at"] = timestamp_text(updated) if updated else self._default_updated_at
        application = {
            field: timestamp_text(cell.get(column, ""))
            if field == "applied_at"
            else cell.get(column)
            for field, column in _APPLICATION_FIELDS.items()
            if cell.get(column)
        }
        data["applications"] = [application] if application else []
        try:
            candidate = CandidateUpdated.model_validate(data)
        except ValidationError as exc:
            problems += _describe_all(exc)
        if problems:
            raise RowError(problems)
        return candidate

    def _cells(self, row: Sequence[str]) -> dict[str, str]:
        return {name: row[index].strip() for name, index in self._header.positions.items()}


def _holds_rows(value: str) -> bool:
    """A quoted cell may hold line breaks ("Berlin / Mitte" on two lines is a location), but
    one whose later lines hold the delimiter is nearly always a stray `"` that made one field
    of the rows after it: those candidates would vanish into this one's name."""
    return any("," in line for line in value.splitlines()[1:])


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(text)


def timestamp_text(text: str) -> str | None:
    """A cell (or `--updated-at`) as the contract's timestamp text (validated by the model),
    or None when empty."""
    if not text:
        return None
    if _DATE_ONLY.match(text):
        # ATS exports write "never" and "unknown" as the calendar's ends, which the contract
        # leaves out (a datetime's first and last day): the nearest day it holds says the same.
        return f"{min(max(text, _FIRST_DAY), _LAST_DAY)}T00:00:00Z"
    return _SPACED_TIME.sub(r"\1T\2", text, count=1)


def _describe_all(exc: ValidationError) -> list[str]:
    """The model's errors as `column: problem`, with the CSV's column names; errors of the
    "or null" fallback branches are noise (the value branch says what is wrong)."""
    described: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        location = [str(p) for p in error["loc"] if p != VALUE_BRANCH]
        if FALLBACK_BRANCHES & set(location):
            continue
        text = f"{_column(location)}: {error['msg'].removeprefix('Value error, ')}"
        if text not in described:
            described.append(text)
    return described


def _column(location: Sequence[str]) -> str:
    if location[:1] == ["applications"] and len(location) >= 3:
        return _APPLICATION_FIELDS.get(location[2], "last_application")
    return location[0] if location else "row"
