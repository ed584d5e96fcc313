"""The preview's table and JSON, rendered from a real reference match (no database)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from tests.unit.rules.factories import DAY, DEFAULT_POLICY, T, make_candidate, make_job, outreach
from worker.preview.render import RULE_MEANINGS, mask_email, render_json, render_table
from worker.preview.report import Contact, Explained, PreviewReport, RequestedRow
from worker.rules.eligibility import Exclusion
from worker.rules.model import Application, Candidate, Policy
from worker.rules.reference import exclusion_counts, outcome_for, reference_match

JOB = make_job()
POOL = [
    make_candidate(
        candidate_id="c-ann",
        first_name="Ann",
        last_name="Lee",
        email="ann.lee@example.com",
        credentials=("SQL", "Tableau", "Python"),
        applications=(Application("J-old", "Data Analyst", T - 600 * DAY),),
    ),
    make_candidate(
        candidate_id="c-eve",
        first_name="[bold red]Eve[/]",
        last_name=None,
        email="eve@example.org",
        last_activity_at=T - 300 * DAY,
    ),
    make_candidate(candidate_id="c-bob", first_name="Bob", do_not_contact=True),
    make_candidate(candidate_id="c-cat", first_name="Cat", credentials=("sql",)),
    make_candidate(candidate_id="c-dan", first_name="Dan"),
]
PAST = [outreach("J0", T - 2 * DAY, candidate_id="c-dan")]


def build_report(
    policy: Policy = DEFAULT_POLICY, explain_id: str | None = None, past: list[Any] | None = None
) -> PreviewReport:
    """What the command will do, with the reference matcher standing in for the store."""
    history = PAST if past is None else past
    decisions = reference_match(JOB, T, policy, POOL, history)
    by_id = {c.candidate_id: c for c in POOL}
    explained = None
    if explain_id is not None:
        candidate: Candidate | None = by_id.get(explain_id)
        explained = Explained(
            explain_id,
            None
            if candidate is None
            else outcome_for(candidate, JOB, T, policy, history, decisions=decisions),
            None if candidate is None else Contact.of(candidate),
        )
    return PreviewReport(
        job=JOB,
        at=T,
        policy=policy,
        requests_before=sum(1 for o in history if o.job_id == JOB.job_id),
        requested=tuple(RequestedRow(d, Contact.of(by_id[d.candidate_id])) for d in decisions),
        exclusions=exclusion_counts(JOB, T, policy, POOL, history),
        explained=explained,
    )


def table_text(report: PreviewReport) -> str:
    out = io.StringIO()
    render_table(report, Console(file=out, width=240, color_system=None, force_terminal=False))
    return out.getvalue()


def test_table_lists_requests_with_masked_emails() -> None:
    text = table_text(build_report())
    assert "Would request (2)" in text
    assert "Ann Lee" in text
    assert "a***@example.com" in text
    assert "e***@example.org" in text
    assert "ann.lee@" not in text
    assert "eve@" not in text
    assert "You applied for Data Analyst in March 2025;" in text  # T - 600 days
    assert text.index("c-ann") < text.index("c-eve")  # Ann matches a preferred credential


def test_names_are_not_rich_markup() -> None:
    assert "[bold red]Eve[/]" in table_text(build_report())


def test_table_counts_exclusions_by_rule() -> None:
    text = table_text(build_report())
    assert "Not requested (3)" in text
    for rule in (Exclusion.DO_NOT_CONTACT, Exclusion.MISSING_CREDENTIALS, Exclusion.COOLDOWN):
        line = next(line for line in text.splitlines() if line.startswith(f"│ {rule.value} "))
        assert " 1 " in line
        assert RULE_MEANINGS[rule] in line
    assert Exclusion.CAP_REACHED.value not in text  # zero rows are left out of the table


def test_table_explains_an_excluded_candidate() -> None:
    text = table_text(build_report(explain_id="c-dan"))
    assert "Candidate c-dan (Dan Doe)" in text
    assert "Not requested (cooldown): contacted for another job within the cooldown" in text
    assert "outreach for job J0 was requested at" in text


def test_table_explains_a_requested_and_an_unknown_candidate() -> None:
    assert "Would be requested at rank 2." in table_text(build_report(explain_id="c-eve"))
    assert "No such candidate in this tenant's pool." in table_text(
        build_report(explain_id="c-nobody")
    )


def test_table_explains_the_cap() -> None:
    text = table_text(build_report(policy=Policy(max_outreach=1), explain_id="c-eve"))
    assert "Would request (1)" in text
    assert "Not requested (cap_reached): eligible, but beyond the job's outreach cap." in text


def test_table_says_when_nobody_would_be_requested() -> None:
    full = [outreach("J1", T - DAY, candidate_id=f"x{n}") for n in range(3)]
    text = table_text(build_report(policy=Policy(max_outreach=3), past=full))
    assert "Nobody would be requested: the job's cap is reached." in text
    assert "cap 3 (3 already requested)" in text


def test_json_document() -> None:
    document = json.loads(render_json(build_report(explain_id="c-cat")))
    assert document["tenant_id"] == "acme"
    assert document["job"]["job_id"] == "J1"
    assert document["at"] == "2026-11-20T09:30:00+00:00"
    assert document["requests_before"] == 0
    assert [r["candidate_id"] for r in document["would_request"]] == ["c-ann", "c-eve"]
    ann = document["would_request"][0]
    assert ann["rank"] == 1
    assert ann["email_masked"] == "a***@example.com"
    assert ann["first_name"] == "Ann"
    assert ann["reason"]["matched_credentials"] == ["SQL", "Tableau"]
    assert ann["reason"]["previous_application"]["job_title"] == "Data Analyst"
    assert ann["reason"]["inactive_days"] == 200
    assert list(document["excluded"]) == [rule.value for rule in Exclusion]
    assert document["excluded"]["cooldown"] == 1
    assert document["excluded_total"] == 3
    assert document["explain"] == {
        "candidate_id": "c-cat",
        "first_name": "Cat",
        "last_name": "Doe",
        "email_masked": "j***@example.com",
        "outcome": "excluded",
        "rule": "missing_credentials",
        "detail": "missing required credentials: Tableau",
        "rank": None,
    }
    raw = render_json(build_report())
    assert "@example.com" in raw
    assert "ann.lee" not in raw
    assert "jane.doe" not in raw


def test_json_explain_outcomes() -> None:
    requested = json.loads(render_json(build_report(explain_id="c-eve")))["explain"]
    assert requested["outcome"] == "requested"
    assert requested["rank"] == 2
    missing = json.loads(render_json(build_report(explain_id="c-nobody")))["explain"]
    assert missing == {
        "candidate_id": "c-nobody",
        "outcome": "not_found",
        "rule": None,
        "detail": None,
        "rank": None,
    }
    assert json.loads(render_json(build_report()))["explain"] is None


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("j@x.org", "j***@x.org"),
        ("a@b@c.com", "a***@c.com"),
        ("@example.com", "***@example.com"),
        ("not-an-address", "***"),
        ("trailing@", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email(address: str | None, masked: str) -> None:
    assert mask_email(address) == masked


def test_every_rule_has_a_meaning() -> None:
    assert set(RULE_MEANINGS) == set(Exclusion)


def test_control_characters_from_the_ats_do_not_reach_the_terminal() -> None:
    escape = "\x1b]0;PWNED\x07\x1b[2J\x9b31m"  # set the window title, clear the screen, CSI
    candidate = make_candidate(candidate_id=f"c-{escape}", first_name=f"Eve{escape}")
    job = make_job(title=f"Analyst{escape}")
    decisions = reference_match(job, T, DEFAULT_POLICY, [candidate], [])
    assert decisions  # requested: its name, id and summary are printed in the table
    report = PreviewReport(
        job=job,
        at=T,
        policy=DEFAULT_POLICY,
        requests_before=0,
        requested=tuple(RequestedRow(d, Contact.of(candidate)) for d in decisions),
        exclusions=exclusion_counts(job, T, DEFAULT_POLICY, [candidate], []),
        explained=Explained(
            candidate.candidate_id,
            outcome_for(candidate, job, T, DEFAULT_POLICY, [], decisions=decisions),
            Contact.of(candidate),
        ),
    )
    text = table_text(report)
    assert not any(ch in text for ch in "\x1b\x07\x9b")
    assert "Eve\ufffd]0;PWNED" in text
    # The JSON keeps the data as stored, every control escaped.
    assert not any(ch in render_json(report) for ch in "\x1b\x07\x9b")
    assert json.loads(render_json(report))["would_request"][0]["first_name"] == f"Eve{escape}"
