"""What the worker benchmarks share: synthetic ATS data, topics, settings, and the statistics.

The data is seeded and shaped like a real ATS export (a dozen skills to draw from, names, past
applications, a realistic share of unusable addresses and do-not-contact flags), so the worker
does all of its per-candidate work, not a best case.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from worker.contracts.ats import Application, CandidateUpdated, JobOpened, JobPolicy
from worker.contracts.encode import OutgoingMessage, ats_event
from worker.settings import Settings
from worker.store.schema import CandidateRow

# Every job opens at T; candidates are dormant relative to it (the rules use no wall clock).
T = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SOURCE = "urn:ats:bench"
SKILLS = (
    "Python",
    "SQL",
    "Tableau",
    "Excel",
    "Kubernetes",
    "Go",
    "CPA",
    "Nursing Licence",
    "PostgreSQL",
    "Apache Kafka",
    "Scrum Master",
    "Power BI",
    "German (B2)",
    "Statistics",
)
FIRST_NAMES = ("Ada", "Grace", "Linus", "Margaret", "Alan", None)
LAST_NAMES = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", None)


@dataclass(frozen=True)
class Topics:
    jobs: str
    candidates: str
    outreach: str
    status: str

    @classmethod
    def named(cls, prefix: str) -> Topics:
        return cls(
            jobs=f"{prefix}-jobs",
            candidates=f"{prefix}-candidates",
            outreach=f"{prefix}-outreach",
            status=f"{prefix}-status",
        )

    @property
    def consumed(self) -> list[str]:
        """What `reengage worker` subscribes to."""
        return [self.jobs, self.candidates, self.status]

    def partitions(self) -> dict[str, int]:
        # As in the integration tests: several partitions where ordering is per key.
        return {self.jobs: 2, self.candidates: 3, self.outreach: 3, self.status: 1}

    def env(self) -> dict[str, str]:
        return {
            "REENGAGE_TOPIC_JOBS": self.jobs,
            "REENGAGE_TOPIC_CANDIDATES": self.candidates,
            "REENGAGE_TOPIC_OUTREACH": self.outreach,
            "REENGAGE_TOPIC_STATUS": self.status,
        }


def create_topics(bootstrap: str, partitions: Mapping[str, int]) -> None:
    """Create the topics and wait until the broker's metadata names every partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="reengage-bench")
    try:
        admin.create_topics(
            {
                name: {"num_partitions": n, "replication_factor": 1}
                for name, n in partitions.items()
            },
            wait_for_metadata=True,
        )
    finally:
        admin.close()


def settings_for(bootstrap: str, database_url: str, topics: Topics, group: str) -> Settings:
    """The worker's settings for one benchmark, ignoring any .env file in the working tree."""
    return Settings(
        _env_file=None,
        kafka_bootstrap_servers=bootstrap,
        database_url=database_url,
        consumer_group=group,
        topic_jobs=topics.jobs,
        topic_candidates=topics.candidates,
        topic_outreach=topics.outreach,
        topic_status=topics.status,
        log_level="WARNING",
    )


def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        result: dict[TopicPartition, int] = consumer.end_offsets(partitions)
        return result
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="reengage-bench")
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    except KafkaError:
        return {}  # no coordinator yet (the group has not joined): nothing committed
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def all_committed(
    committed: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
) -> bool:
    """Every non-empty partition's committed offset has reached its end offset."""
    return all(committed.get(tp, 0) >= end for tp, end in ends.items() if end > 0)


def stored_candidates(engine: Engine, tenant_id: str) -> int:
    """How many candidates the tenant has in the store (what an ingest run must account for)."""
    with engine.connect() as connection:
        statement = select(func.count()).where(CandidateRow.tenant_id == tenant_id)
        count: int = connection.execute(statement).scalar_one()
    return count


def create_database(server_url: str, name: str) -> str:
    """A new database on the throwaway server; returns its URL."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


# --- synthetic candidates -------------------------------------------------------------------


def _applications(rng: random.Random, n: int) -> tuple[Application, ...]:
    return tuple(
        Application(
            job_id=f"OLD-{n}-{k}",
            job_title=rng.choice(("Data Analyst", "BI Developer", "Staff Nurse", "Accountant")),
            applied_at=T - timedelta(days=rng.randint(200, 900)),
            status=rng.choice(("rejected", "withdrawn", None)),
        )
        for k in range(rng.choice((0, 0, 1, 1, 2, 3)))
    )


def ingest_updates(tenant_id: str, count: int, seed: int) -> list[CandidateUpdated]:
    """One snapshot per candidate, mixed as a real pool is: about a third cannot be contacted
    (do-not-contact, no or bad address, bounced, consent expired), which the worker checks
    for cancellations; the rest are plain upserts."""
    rng = random.Random(seed)
    updates = []
    for n in range(count):
        email = rng.choice([f"person{n}@example.com"] * 8 + [None, "not-an-address"])
        updates.append(
            CandidateUpdated(
                tenant_id=tenant_id,
                candidate_id=f"C-{n:06d}",
                email=email,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                credentials=tuple(rng.sample(SKILLS, rng.randint(0, 6))),
                last_activity_at=T - timedelta(days=rng.randint(10, 700), hours=rng.randint(0, 23)),
                do_not_contact=rng.random() < 0.1,
                email_status=rng.choice(["unknown"] * 6 + ["valid"] * 2 + ["bounced", "invalid"]),
                consent_expires_at=rng.choice(
                    [None] * 6 + [T - timedelta(days=3), T + timedelta(days=90)]
                ),
                applications=_applications(rng, n),
                updated_at=T - timedelta(days=1),
            )
        )
    return updates


def as_messages(updates: Sequence[CandidateUpdated], run: str) -> list[OutgoingMessage]:
    return [
        ats_event(u, event_id=f"{run}-{u.tenant_id}-{u.candidate_id}", source=SOURCE)
        for u in updates
    ]


@dataclass(frozen=True)
class LatencyJob:
    job_id: str
    matches: int
    opened: JobOpened


def latency_credential(matches: int, run: int) -> str:
    return f"Bench Skill {matches}-{run}"


def latency_pool(
    tenant_id: str, runs: Mapping[int, int], seed: int
) -> tuple[list[CandidateUpdated], list[LatencyJob]]:
    """For each job (`runs[N]` jobs with N matches each): exactly N eligible candidates hold
    its required credential, plus N/5 who hold it and fail a rule (do-not-contact, or active
    too recently), so the matcher has something to reject. Cooldown and "once per job" never
    interfere: no candidate is wanted by two jobs."""
    rng = random.Random(seed)
    updates: list[CandidateUpdated] = []
    jobs: list[LatencyJob] = []
    n = 0
    for matches, count in sorted(runs.items()):
        for run in range(count):
            credential = latency_credential(matches, run)
            decoys = max(1, matches // 5)
            for k in range(matches + decoys):
                eligible = k < matches
                dnc = not eligible and k % 2 == 0
                days = rng.randint(190, 440) if eligible or dnc else rng.randint(5, 150)
                updates.append(
                    CandidateUpdated(
                        tenant_id=tenant_id,
                        candidate_id=f"L-{n:06d}",
                        email=f"person{n}@example.com",
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=rng.choice(LAST_NAMES),
                        credentials=(credential, *rng.sample(SKILLS, rng.randint(0, 4))),
                        last_activity_at=T - timedelta(days=days, hours=rng.randint(0, 23)),
                        do_not_contact=dnc,
                        email_status=rng.choice(("unknown", "valid")),
                        consent_expires_at=rng.choice((None, T + timedelta(days=90))),
                        applications=_applications(rng, n),
                        updated_at=T - timedelta(days=1),
                    )
                )
                n += 1
            job_id = f"J-{matches}-{run}"
            jobs.append(
                LatencyJob(
                    job_id,
                    matches,
                    JobOpened(
                        tenant_id=tenant_id,
                        job_id=job_id,
                        title="Senior Data Analyst",
                        required_credentials=(credential,),
                        preferred_credentials=("SQL", "Tableau", "Python"),
                        apply_url=f"https://jobs.example.com/{job_id}",
                        opened_at=T,
                        # A cap above N: the pool, not the cap, decides how many are requested.
                        policy=JobPolicy(max_outreach=2 * matches),
                    ),
                )
            )
    return updates, jobs


def job_message(job: LatencyJob) -> OutgoingMessage:
    return ats_event(job.opened, event_id=f"bench-{job.job_id}", source=SOURCE)


# --- statistics and output --------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest sample with at least q% of the samples at or below it."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
