"""The demo summary as people read it: a table per tenant, a column per job, the funnel's
numbers, outreach and emails caught; and the same numbers as JSON for scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from worker.commands.demo import summary_document
from worker.demo.render import render_summary
from worker.demo.summary import DemoSummary, JobSummary
from worker.rules.eligibility import Exclusion
from worker.rules.model import Policy
from worker.status_page.funnel import STAGES, Funnel

T = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def job(
    job_id: str, title: str, *, tenant: str = "acme-demo7", caught: int | None = 4
) -> JobSummary:
    excluded = {stage: 0 for stage in STAGES}
    excluded[Exclusion.EMAIL_UNUSABLE] = 17
    excluded[Exclusion.CAP_REACHED] = 9
    return JobSummary(
        tenant_id=tenant,
        job_id=job_id,
        title=title,
        funnel=Funnel(pool=30, excluded=excluded, policy=Policy(max_outreach=4)),
        outreach={"requested": 0, "sent": 4, "failed": 0, "cancelled": 0},
        caught=caught,
    )


SUMMARY = DemoSummary(
    pools={"acme-demo7": 30, "globex-demo7": 12},
    jobs=(
        job("JOB-101", "Data Analyst"),
        job("JOB-102", "[bold]Backend[/bold]"),
        job("JOB-101", "Registered Nurse", tenant="globex-demo7", caught=None),
    ),
    example_email=Path("/tmp/mail/20260112-000001.eml"),
)


def test_one_table_per_tenant_with_the_numbers() -> None:
    console = Console(record=True, width=140)
    render_summary(SUMMARY, console)
    text = console.export_text()
    assert "acme-demo7 · 30 candidates" in text and "globex-demo7 · 12 candidates" in text
    assert "Data Analyst" in text
    assert "[bold]Backend[/bold]" in text  # ATS text is printed, not read as markup
    acme = text.split("globex-demo7")[0]
    assert "email unusable" in acme and acme.count("−17") == 2
    assert acme.count("−9") == 2
    assert "emails caught" in acme
    globex = text.split("globex-demo7")[1]
    assert "–" in globex.split("emails caught")[1].splitlines()[0]  # folder unknown
    assert "One caught email: /tmp/mail/20260112-000001.eml" in text


def test_the_json_document_carries_the_same_numbers() -> None:
    document = summary_document(SUMMARY)
    first = document["jobs"][0]
    assert first["pool"] == 30
    assert first["excluded"]["email_unusable"] == 17
    assert first["requestable"] == 4
    assert first["requested"] == 4 and first["emails_caught"] == 4
    assert document["jobs"][2]["emails_caught"] is None
    assert document["example_email"] == "/tmp/mail/20260112-000001.eml"
