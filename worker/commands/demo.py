"""`reengage demo`: publish a synthetic ATS data set as real events, wait for the loop (worker,
relay, mailer) to settle, and print what happened, per job (see worker/demo)."""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.status import Status
from sqlalchemy import Engine

from worker.commands.arguments import parse_time
from worker.demo.dataset import DemoDataset, DemoOptions, build
from worker.demo.publish import publish
from worker.demo.render import render_summary
from worker.demo.settle import (
    Probe,
    Progress,
    StalledError,
    candidates_stored,
    jobs_stored,
    outreach_settled,
    wait_until_complete,
)
from worker.demo.summary import DemoSummary, summarise
from worker.devrun.mailbox import Mailbox
from worker.kafka.producer import Producer
from worker.runtime.shutdown import default_actions
from worker.runtime.startup import check_database, connect_to_broker
from worker.settings import ConfigurationError, Settings
from worker.store.engine import create_store_engine

EXIT_STALLED = 1


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Nothing here needs finishing: SIGTERM stops the demo as Ctrl-C does (exit 0, see cli).
    default_actions()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    options = DemoOptions(seed=args.seed, candidates=args.candidates, jobs=args.jobs, at=args.at)
    dataset = build(options)
    engine = create_store_engine(settings.database)
    try:
        try:
            check_database(engine, settings.startup_timeout_seconds, shutdown=None)
            producer = connect_to_broker(
                lambda: Producer(settings),
                timeout_s=settings.startup_timeout_seconds,
                shutdown=None,
            )
        except ConfigurationError as exc:
            # Most likely the loop is not running here yet (or on another KAFKA_PORT): say
            # where to start.
            raise ConfigurationError(
                exc.variable, f"{exc.problem} (is `make run` running in this folder?)"
            ) from None
        try:
            return _run(args, settings, engine, producer, dataset)
        finally:
            producer.close()
    finally:
        engine.dispose()


def _run(
    args: argparse.Namespace,
    settings: Settings,
    engine: Engine,
    producer: Producer,
    dataset: DemoDataset,
) -> int:
    say = Console(stderr=True, highlight=False)
    mailbox = Mailbox(Path(args.mail_dir))
    tenants = dataset.tenant_ids
    job_keys = [(j.tenant_id, j.job_id) for j in dataset.jobs]
    try:
        with say.status("") as status:
            waiter = _Waiter(status, say, float(args.stall_timeout))
            sent = publish(producer, settings.topic_candidates, dataset.candidate_messages())
            say.print(f"published {sent} candidates to {settings.topic_candidates}")
            waiter.wait(
                candidates_stored(engine, tenants, len(dataset.candidates)),
                "candidates stored by the worker",
            )
            sent = publish(producer, settings.topic_jobs, dataset.job_messages())
            say.print(f"published {sent} job openings to {settings.topic_jobs}")
            waiter.wait(jobs_stored(engine, job_keys), "jobs matched")
            if not mailbox.exists:
                say.print(
                    f"no catcher folder at {mailbox.folder}: emails caught are not counted "
                    "(is `make run` running here?)"
                )
            caught = mailbox if mailbox.exists else None
            what = "emails caught" if caught is not None else "outreach reported by the mailer"
            waiter.wait(outreach_settled(engine, tenants, caught), what)
    except StalledError as exc:
        say.print(
            f"[bold red]stopped waiting[/]: {exc}. Is the loop running? `make run` in another "
            "terminal runs the worker, the relay and the mailer.",
        )
        return EXIT_STALLED
    summary = summarise(engine, job_keys, settings.policy, mailbox if mailbox.exists else None)
    if args.json:
        print(json.dumps(summary_document(summary), indent=2))
    else:
        render_summary(summary, Console(highlight=False))
        say.print(f"status page: http://localhost:{settings.http_port}/ (while `make run` runs)")
    return 0


class _Waiter:
    """Waits on one probe after another, showing progress on a rich status line."""

    def __init__(self, status: Status, say: Console, stall_s: float) -> None:
        self._status = status
        self._say = say
        self._stall_s = stall_s
        self._started = time.monotonic()

    def wait(self, probe: Probe, what: str) -> Progress:
        def show(progress: Progress) -> None:
            self._status.update(f"{what}: {progress.done} of {progress.total}")

        progress = wait_until_complete(probe, what=what, stall_s=self._stall_s, on_progress=show)
        elapsed = time.monotonic() - self._started
        self._say.print(f"✓ {what}: {progress.done} of {progress.total} ({elapsed:.1f} s)")
        return progress


def summary_document(summary: DemoSummary) -> dict[str, Any]:
    """The summary for scripts (`--json`): the same numbers as the table."""
    return {
        "pools": dict(summary.pools),
        "jobs": [
            {
                "tenant_id": j.tenant_id,
                "job_id": j.job_id,
                "title": j.title,
                "pool": j.funnel.pool,
                "excluded": {rule.value: n for rule, n in j.funnel.excluded.items()},
                "requestable": j.funnel.requestable,
                "requested": j.requested,
                "outreach": dict(j.outreach),
                "emails_caught": j.caught,
            }
            for j in summary.jobs
        ],
        "example_email": None if summary.example_email is None else str(summary.example_email),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DemoOptions()
    parser.add_argument("--seed", type=int, default=defaults.seed, help="data set seed")
    parser.add_argument(
        "--candidates", type=int, default=defaults.candidates, help="candidates, all tenants"
    )
    parser.add_argument("--jobs", type=int, default=defaults.jobs, help="job openings")
    parser.add_argument(
        "--at",
        type=parse_time,
        default=defaults.at,
        help="when the jobs open (RFC 3339; default 2026-01-12T09:00:00Z)",
    )
    parser.add_argument(
        "--mail-dir", default=".run/mail", help="the SMTP catcher's folder (make run's)"
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=60.0,
        help="give up when nothing moves for this many seconds (default 60)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
