"""The status page's HTML: the numbers it draws are the report's, ATS text is escaped, and
there is no script and no personal data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

from prometheus_client import CollectorRegistry, Counter

from worker.outbox.gauges import OutboxBacklog
from worker.rules.eligibility import Exclusion
from worker.rules.model import Job, Policy
from worker.status_page.dead_letters import dead_letters_by_topic
from worker.status_page.funnel import STAGES, Funnel
from worker.status_page.render import render
from worker.status_page.report import JobStatus, StatusReport, TenantStatus

T = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def funnel(pool: int, **excluded: int) -> Funnel:
    counts = {stage: excluded.get(stage.value, 0) for stage in STAGES}
    return Funnel(pool=pool, excluded=counts, policy=Policy(max_outreach=5))


def report(title: str = "Data Analyst", closed: bool = False) -> StatusReport:
    job = Job(
        tenant_id="acme",
        job_id="J-1",
        title=title,
        required_credentials=("SQL",),
        opened_at=T,
        closed_at=T if closed else None,
    )
    status = JobStatus(
        job=job,
        funnel=funnel(100, do_not_contact=7, missing_credentials=60, cap_reached=28),
        outreach={"requested": 1, "sent": 3, "failed": 1, "cancelled": 0},
    )
    return StatusReport(
        generated_at=T,
        database="sqlite",
        tenants=(TenantStatus("acme", 100, (status,)),),
        jobs_total=1,
        jobs_shown=1,
        outreach_totals={"requested": 1, "sent": 3, "failed": 1, "cancelled": 0},
        outbox=OutboxBacklog(pending=2, oldest_age_seconds=3.0),
        dead_letters={"ats.jobs": 4},
    )


class Stages(HTMLParser):
    """Reads each funnel stage's drawn numbers (the SVG text), as a person would."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: dict[str, list[str]] = {}
        self._stage: str | None = None
        self._in_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "g" and attributes.get("class") == "stage":
            self._stage = attributes["data-stage"]
            self.stages[self._stage or ""] = []
        self._in_text = tag == "text" and self._stage is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._stage = None
        self._in_text = False

    def handle_data(self, data: str) -> None:
        if self._in_text and self._stage is not None:
            self.stages[self._stage].append(data)


def test_the_funnel_draws_each_stage_with_its_exclusions_and_what_is_left() -> None:
    parser = Stages()
    parser.feed(render(report()))
    assert parser.stages["pool"] == ["pool", "100"]
    assert parser.stages["do_not_contact"] == ["do not contact", "−7", "93"]
    assert parser.stages["missing_credentials"] == ["missing credentials", "−60", "33"]
    assert parser.stages["cooldown"] == ["cooldown (other job)", "0", "33"]
    assert parser.stages["cap_reached"] == ["beyond the job's cap", "−28", "5"]
    assert parser.stages["requested"] == ["requested", "5"]
    assert [s for s in parser.stages if s not in ("pool", "requested")] == [s.value for s in STAGES]


def test_cards_show_outbox_dead_letters_and_outreach_by_status() -> None:
    html = render(report())
    assert 'data-pending="2"' in html and ">2</div>" in html
    assert 'ats.jobs.dlq</td><td class="n">4</td>' in html
    for status, count in (("requested", 1), ("sent", 3), ("failed", 1), ("cancelled", 0)):
        assert f'data-status="{status}" data-count="{count}"' in html


def test_ats_text_is_escaped_and_there_is_no_script() -> None:
    html = render(report(title='<script>alert("x")</script> & Co'))
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "javascript:" not in html.lower()


def test_an_address_in_ats_text_is_masked() -> None:
    html = render(report(title="Analyst, ask jane.doe@acme.example"))
    assert "jane.doe" not in html and "j***@acme.example" in html


def test_control_characters_from_the_ats_are_not_written_into_the_page() -> None:
    html = render(report(title="Data\x1b[31m Analyst\x07\x85"))
    assert "Data\ufffd[31m Analyst\ufffd\ufffd" in html
    assert not any(0x80 <= ord(c) < 0xA0 or (ord(c) < 0x20 and c != "\n") for c in html)


def test_a_closed_job_is_marked_closed() -> None:
    assert '<span class="badge closed">closed</span>' in render(report(closed=True))
    assert '<span class="badge open">open</span>' in render(report())


def test_an_empty_store_says_how_to_start() -> None:
    empty = StatusReport(
        generated_at=T,
        database="postgresql",
        tenants=(),
        jobs_total=0,
        jobs_shown=0,
        outreach_totals={"requested": 0, "sent": 0, "failed": 0, "cancelled": 0},
        outbox=OutboxBacklog(0, None),
        dead_letters={},
    )
    html = render(empty)
    assert "make demo" in html and "nothing waiting" in html


def _tenants_report(*tenants: TenantStatus, hidden: int = 0) -> StatusReport:
    return replace(
        report(),
        tenants=tenants,
        jobs_total=sum(t.jobs_opened for t in tenants),
        jobs_shown=sum(len(t.jobs) for t in tenants),
        tenants_hidden=hidden,
    )


def test_a_tenant_whose_jobs_are_not_among_the_shown_ones_does_not_say_it_has_none() -> None:
    shown = report().tenants[0]
    html = render(
        _tenants_report(
            replace(shown, jobs_opened=3),
            TenantStatus("beta", 40, (), jobs_opened=2),
            TenantStatus("gamma", 10, (), jobs_opened=0),
        )
    )
    beta = html[html.index('data-tenant="beta"') : html.index('data-tenant="gamma"')]
    gamma = html[html.index('data-tenant="gamma"') :]
    assert "No jobs opened yet." not in beta
    assert 'data-jobs-hidden="2">2 opened jobs not shown' in beta
    assert 'data-jobs-hidden="2">2 more opened jobs not shown' in html  # acme: 1 of 3 shown
    assert "No jobs opened yet." in gamma


def test_tenants_left_off_the_page_are_counted() -> None:
    html = render(_tenants_report(report().tenants[0], hidden=2_980))
    assert 'data-tenants-hidden="2980">2980 more tenants not shown.' in html


def test_the_funnel_arithmetic() -> None:
    f = funnel(100, do_not_contact=7, missing_credentials=60, cap_reached=28)
    assert (f.eligible, f.requestable) == (33, 5)
    assert f.remaining()[-1] == (Exclusion.CAP_REACHED, 28, 5)


def test_dead_letters_are_read_from_the_worker_counter() -> None:
    registry = CollectorRegistry()
    events = Counter(
        "reengage_events_total", "test", ["topic", "type", "outcome"], registry=registry
    )
    events.labels("ats.jobs", "", "dead_lettered").inc(3)
    events.labels("ats.candidates", "", "dead_lettered").inc()
    events.labels("ats.candidates", "ats.candidate.updated", "processed").inc(50)
    events.labels("reengage.outreach.status", "", "dead_lettered")  # zero: left out
    assert dead_letters_by_topic(registry) == {"ats.candidates": 1, "ats.jobs": 3}
