"""The first ten minutes, end to end: what `make run` runs (worker + relay + mailer + SMTP
catcher, as processes) against the real broker, then `make demo` on a shortened data set.

The demo's summary is checked against the database and the caught emails, the status page is
rendered in headless Chromium and its funnel read back, and Ctrl-C stops everything cleanly.
Tests run in file order and share one `make run`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter, defaultdict
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.demo.conftest import LocalRun, chromium_args
from worker.devrun.mailbox import outreach_of
from worker.rules.eligibility import effective_policy
from worker.rules.model import Policy
from worker.rules.reference import exclusion_counts
from worker.status_page.funnel import STAGES, as_opened
from worker.store.candidates import load_candidates, stream_candidates
from worker.store.engine import create_store_engine
from worker.store.jobs import load_job
from worker.store.outreach import past_outreach
from worker.store.schema import OutreachRow

pytestmark = pytest.mark.kafka

DEMO = ["demo", "--seed", "11", "--candidates", "300", "--jobs", "4", "--stall-timeout", "45"]


def caught_emails(mail_dir: Path) -> dict[str, list[Path]]:
    """outreach id -> the .eml files carrying it (read here with the `email` package)."""
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        outreach = outreach_of(str(message["Message-ID"]))
        assert outreach is not None, path
        found[outreach].append(path)
    return found


def expected_from_the_database(database_url: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Per job, independently of the SQL funnel: the reference rules over the stored pool,
    and the outreach rows by status."""
    engine = create_store_engine(database_url)
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(OutreachRow.tenant_id, OutreachRow.job_id, OutreachRow.status)
            ).all()
            statuses: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
            for row in rows:
                statuses[(row.tenant_id, row.job_id)][row.status] += 1
            for (tenant_id, job_id), by_status in statuses.items():
                job = load_job(connection, tenant_id, job_id)
                assert job is not None
                pool = list(stream_candidates(connection, tenant_id))
                history = [o for o in past_outreach(connection, tenant_id) if o.job_id != job_id]
                policy = effective_policy(job, Policy())
                counts = exclusion_counts(as_opened(job), job.opened_at, policy, pool, history)
                expected[(tenant_id, job_id)] = {
                    "pool": len(pool),
                    "excluded": {stage.value: counts[stage] for stage in STAGES},
                    "statuses": by_status,
                }
    finally:
        engine.dispose()
    return expected


def test_make_demo_prints_the_summary_and_the_emails_are_caught(local_run: LocalRun) -> None:
    shown = local_run.reengage(*DEMO, "--mail-dir", str(local_run.mail_dir))
    assert shown.returncode == 0, shown.stdout + shown.stderr + local_run.output()
    assert "✓ emails caught" in shown.stderr
    assert "emails caught" in shown.stdout and "beyond the job's cap" in shown.stdout
    example = Path(shown.stdout.split("One caught email: ")[1].split()[0])
    assert example.is_file()

    # Again, as JSON: the same seed republishes the same events, which change nothing.
    again = local_run.reengage(*DEMO, "--mail-dir", str(local_run.mail_dir), "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)

    expected = expected_from_the_database(local_run.database_url)
    caught = caught_emails(local_run.mail_dir)
    engine = create_store_engine(local_run.database_url)
    with engine.connect() as connection:
        job_of_outreach = dict(
            (r.outreach_id, (r.tenant_id, r.job_id))
            for r in connection.execute(
                select(OutreachRow.outreach_id, OutreachRow.tenant_id, OutreachRow.job_id)
            )
        )
    assert len(summary["jobs"]) == 4 and set(expected) == {
        (j["tenant_id"], j["job_id"]) for j in summary["jobs"]
    }
    caught_per_job = Counter(job_of_outreach[o] for o in caught)
    for job in summary["jobs"]:
        key = (job["tenant_id"], job["job_id"])
        assert job["pool"] == expected[key]["pool"] == summary["pools"][job["tenant_id"]]
        assert job["excluded"] == expected[key]["excluded"], key
        statuses = expected[key]["statuses"]
        assert job["requested"] == sum(statuses.values()) == job["requestable"] > 0
        assert job["outreach"]["sent"] == statuses["sent"] == job["requested"]
        assert job["emails_caught"] == caught_per_job[key] == job["requested"]
    # Exactly one email per outreach, none for anything else, even after the second run.
    assert all(len(paths) == 1 for paths in caught.values())
    assert set(caught) == set(job_of_outreach)
    assert len(list(local_run.mail_dir.glob("*.eml"))) == len(job_of_outreach)

    # The example is a real message to the outreach's candidate.
    message = message_from_bytes(example.read_bytes(), policy=default)
    outreach = outreach_of(str(message["Message-ID"]))
    assert outreach in job_of_outreach
    with engine.connect() as connection:
        row = connection.execute(
            select(OutreachRow.tenant_id, OutreachRow.candidate_id).where(
                OutreachRow.outreach_id == outreach
            )
        ).one()
        candidate = load_candidates(connection, row.tenant_id, [row.candidate_id])
    engine.dispose()
    assert message["To"].addresses[0].addr_spec == candidate[row.candidate_id].email


class PageReader(HTMLParser):
    """The rendered page as a person reads it: per job, each funnel stage's drawn text."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.text: list[str] = []
        self._job: tuple[str, str] | None = None
        self._stage: str | None = None
        self._in_svg_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "article" and a.get("class") == "job":
            self._job = (a["data-tenant"] or "", a["data-job"] or "")
            self.jobs[self._job] = {}
        elif tag == "g" and a.get("class") == "stage" and self._job is not None:
            self._stage = a["data-stage"] or ""
            self.jobs[self._job][self._stage] = []
        self._in_svg_text = tag in ("text", "tspan") and self._stage is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._stage = None
        elif tag == "article":
            self._job = None
        if tag in ("text", "tspan"):
            self._in_svg_text = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_svg_text and self._job is not None and self._stage is not None:
            self.jobs[self._job][self._stage].append(data)


@pytest.mark.browser
def test_the_status_page_in_chromium_shows_the_funnel_of_the_database(
    local_run: LocalRun, chromium: str, tmp_path: Path
) -> None:
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [*chromium_args(chromium, profile), "--dump-dom", local_run.status_url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = PageReader()
    page.feed(dom.stdout)

    expected = expected_from_the_database(local_run.database_url)
    assert set(page.jobs) == set(expected)
    for key, stages in page.jobs.items():
        want = expected[key]
        assert stages["pool"][1] == str(want["pool"])
        left = want["pool"]
        for stage in STAGES:
            excluded = want["excluded"][stage.value]
            left -= excluded
            _label, shown, remaining = stages[stage.value]
            assert (shown, remaining) == (f"−{excluded}" if excluded else "0", str(left)), (
                key,
                stage,
            )
        assert stages["requested"][1] == str(sum(want["statuses"].values()))

    # No personal data: not one stored address or full name is on the page.
    html = dom.stdout
    engine = create_store_engine(local_run.database_url)
    with engine.connect() as connection:
        people = [
            c for tenant in {t for t, _ in expected} for c in stream_candidates(connection, tenant)
        ]
    engine.dispose()
    assert people
    for person in people:
        if person.email:
            assert person.email not in html
        if person.first_name and person.last_name:
            assert f"{person.first_name} {person.last_name}" not in html

    shot = tmp_path / "status-page.png"
    screenshot = subprocess.run(
        [*chromium_args(chromium, profile), f"--screenshot={shot}", local_run.status_url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert screenshot.returncode == 0, screenshot.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    keep = os.environ.get("STATUS_PAGE_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)


def test_ctrl_c_stops_the_worker_the_mailer_and_the_catcher(local_run: LocalRun) -> None:
    pids = [
        json.loads(line)["pid"]
        for line in local_run.output().splitlines()
        if line.startswith("{") and json.loads(line).get("event") == "process started"
    ]
    assert len(pids) == 2, local_run.output()
    assert local_run.stop(timeout=30) == 0, local_run.output()
    output = local_run.output()
    assert "worker stopped" in output and "mailer stopped" in output
    assert "emails caught this run, in" in output
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
