"""Running `reengage mailer` as a real subprocess against the session's broker, a test database
and the test SMTP server; building outreach events; reading the status topic back.
Every wait is bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from worker.contracts.decode import Decoded, decode
from worker.contracts.encode import (
    OutgoingMessage,
    outreach_cancelled,
    outreach_requested,
)
from worker.contracts.envelope import AnyEvent
from worker.contracts.outreach import (
    OutreachCancelled,
    OutreachCandidate,
    OutreachJob,
    OutreachReason,
    OutreachRequested,
    PreviousApplication,
    outreach_id,
)

STATUS_TYPES = frozenset(
    {"reengage.outreach.sent", "reengage.outreach.skipped", "reengage.outreach.failed"}
)
REQUESTED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def outreach(
    n: int,
    *,
    tenant: str = "acme",
    job: str = "J-1",
    email: str | None = None,
    first_name: str | None = "Jane",
    last_name: str | None = "Doe",
    apply_url: str | None = "https://careers.acme.example/jobs/J-1",
) -> OutreachRequested:
    candidate = f"C-{n}"
    return OutreachRequested(
        outreach_id=outreach_id(tenant, job, candidate),
        tenant_id=tenant,
        job=OutreachJob(
            job_id=job, title="Senior Data Analyst", apply_url=apply_url, location="Berlin"
        ),
        candidate=OutreachCandidate(
            candidate_id=candidate,
            email=email or f"candidate{n}@example.com",
            first_name=first_name,
            last_name=last_name,
        ),
        reason=OutreachReason(
            matched_credentials=("SQL", "Tableau"),
            matched_preferred_credentials=("Python",),
            last_activity_at=REQUESTED_AT - timedelta(days=300),
            inactive_days=300,
            previous_application=PreviousApplication(
                job_id="J-0",
                job_title="Data Analyst",
                applied_at=datetime(2025, 3, 4, tzinfo=UTC),
            ),
            summary="You applied for Data Analyst in March 2025; this new Senior Data Analyst "
            "role asks for SQL and Tableau, which are on your profile.",
        ),
        rank=n + 1,
        trigger="job.opened",
        requested_at=REQUESTED_AT,
    )


def requested(data: OutreachRequested) -> OutgoingMessage:
    return outreach_requested(data)


def cancelled(data: OutreachRequested) -> OutgoingMessage:
    return outreach_cancelled(
        OutreachCancelled(
            outreach_id=data.outreach_id,
            tenant_id=data.tenant_id,
            job_id=data.job.job_id,
            candidate_id=data.candidate.candidate_id,
            reason="job_closed",
            cancelled_at=REQUESTED_AT + timedelta(hours=1),
        )
    )


def publish(bootstrap: str, topic: str, messages: Iterable[OutgoingMessage | bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = []
        for message in messages:
            if isinstance(message, OutgoingMessage):
                futures.append(producer.send(topic, key=message.key, value=message.value))
            else:
                futures.append(producer.send(topic, key=b"poison", value=message))
        producer.flush(30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()


@dataclass(frozen=True)
class Read:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


def read_topic(bootstrap: str, topic: str, timeout_s: float = 2.0) -> list[Read]:
    """Everything on `topic` now (from the beginning to the current end)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Read] = []
        deadline = time.monotonic() + timeout_s + 10
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            batch: dict[Any, list[Any]] = consumer.poll(timeout_ms=200)
            for part in batch.values():
                records.extend(
                    Read(r.key, r.value, {k: v or b"" for k, v in r.headers or ()}) for r in part
                )
        return records
    finally:
        consumer.close()


def statuses(bootstrap: str, topic: str) -> dict[str, list[AnyEvent]]:
    """Status events on `topic`, by outreach_id, in publish order per partition."""
    by_outreach: dict[str, list[AnyEvent]] = defaultdict(list)
    for record in read_topic(bootstrap, topic):
        result = decode(record.value, STATUS_TYPES)
        assert isinstance(result, Decoded), result
        data: Any = result.event.data
        by_outreach[data.outreach_id].append(result.event)
    return dict(by_outreach)


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout_s: float = 60.0,
    context: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}\n{context()}")


@dataclass(frozen=True)
class MailerEnv:
    bootstrap: str
    database_url: str
    outreach_topic: str
    status_topic: str
    group: str
    smtp_port: int
    rate_per_second: float = 1000.0
    retry_budget_s: float = 60.0

    def variables(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("REENGAGE_")}
        return {
            **inherited,
            "REENGAGE_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "REENGAGE_DATABASE_URL": self.database_url,
            "REENGAGE_TOPIC_OUTREACH": self.outreach_topic,
            "REENGAGE_TOPIC_STATUS": self.status_topic,
            "REENGAGE_CONSUMER_GROUP": self.group,
            "REENGAGE_SMTP_HOST": "127.0.0.1",
            "REENGAGE_SMTP_PORT": str(self.smtp_port),
            "REENGAGE_MAIL_FROM": "Acme Talent <talent@acme.example>",
            "REENGAGE_MAIL_RATE_PER_SECOND": str(self.rate_per_second),
            "REENGAGE_MAIL_UNSUBSCRIBE_URL": "https://jobs.acme.example/unsubscribe"
            "?tenant={tenant_id}&candidate={candidate_id}&outreach={outreach_id}",
            "REENGAGE_MAIL_JOB_BOARD_URL": "https://jobs.acme.example/",
            "REENGAGE_HTTP_PORT": "0",
            "REENGAGE_STARTUP_TIMEOUT_SECONDS": "30",
            "REENGAGE_RETRY_BUDGET_SECONDS": f"{self.retry_budget_s:g}",
            # A killed member's partitions move on after 6 s (the broker's minimum), not 45 s.
            "REENGAGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
        }


class MailerProcess:
    """`reengage mailer` in a subprocess; its output goes to a file, read on failure."""

    def __init__(self, env: MailerEnv, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "worker.entry", "mailer"],
            env=env.variables(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()  # SIGKILL: no handler, no finally, no flush
        self.popen.wait(timeout=10)

    def terminate(self, timeout_s: float = 15.0) -> int:
        if self.alive():
            self.popen.terminate()
        try:
            return self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            raise

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        self._log.close()
