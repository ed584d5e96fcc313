"""A realistic synthetic ATS data set, as the events an ATS would publish.

Deterministic: the same options give the same events, byte for byte (Faker and `random` are
seeded, times are offsets from a fixed reference, event ids are UUIDv5 of stable names). So a
second `reengage demo` with the same seed publishes duplicates the worker ignores.

The pool is shaped so that every rule has something to do: do-not-contact flags, missing,
malformed, bounced and invalid addresses, expired consent, people active too recently or too
long ago, credentials spelled in different ways, past applications for the explanation, and
jobs with their own caps and windows. Tenant ids carry the seed, so data sets of different
seeds never mix in one store.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from faker import Faker

from worker.contracts.ats import Application, CandidateUpdated, JobOpened, JobPolicy
from worker.contracts.encode import OutgoingMessage, ats_event
from worker.demo.catalogue import TENANTS, TRADES, DemoTenant, Trade

DEMO_SOURCE = "urn:reengage:demo"
DEMO_NAMESPACE = UUID("0f9b3c5e-8d2a-5c41-9e67-3a1d2b4c6e80")
DEFAULT_AT = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

_DAY = timedelta(days=1)
# Per-job policy variations, cycled: a tight cap, the deployment's defaults, a wider window.
_POLICIES: tuple[JobPolicy | None, ...] = (
    JobPolicy(max_outreach=12),
    None,
    JobPolicy(min_inactive_days=120, max_inactive_days=540, max_outreach=40),
)

_TRADE_ORDER = (0, 1, 0, 2)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    seed: int = 7
    candidates: int = 3000
    jobs: int = 6
    # The reference time: candidates are snapshotted a day before, jobs open from here on.
    at: datetime = DEFAULT_AT


@dataclass(frozen=True, slots=True)
class DemoDataset:
    options: DemoOptions
    tenant_ids: tuple[str, ...]
    candidates: tuple[CandidateUpdated, ...]
    jobs: tuple[JobOpened, ...]

    def candidate_messages(self) -> list[OutgoingMessage]:
        return [
            ats_event(
                c,
                event_id=event_id(c.tenant_id, "candidate", c.candidate_id),
                source=DEMO_SOURCE,
                time=c.updated_at,
            )
            for c in self.candidates
        ]

    def job_messages(self) -> list[OutgoingMessage]:
        return [
            ats_event(
                j,
                event_id=event_id(j.tenant_id, "job", j.job_id),
                source=DEMO_SOURCE,
                time=j.opened_at,
            )
            for j in self.jobs
        ]


def event_id(tenant_id: str, kind: str, entity_id: str) -> str:
    return str(uuid5(DEMO_NAMESPACE, f"{tenant_id}/{kind}/{entity_id}"))


def tenant_id(tenant: DemoTenant, seed: int) -> str:
    return f"{tenant.name}-demo{seed}"


def build(options: DemoOptions) -> DemoDataset:
    if options.candidates < len(TENANTS) or options.jobs < len(TENANTS):
        raise ValueError(f"the demo needs at least {len(TENANTS)} candidates and jobs")
    sizes = _split(options.candidates, [t.share for t in TENANTS])
    job_counts = _split(options.jobs, [1.0 / len(TENANTS)] * len(TENANTS))
    candidates: list[CandidateUpdated] = []
    jobs: list[JobOpened] = []
    for index, (tenant, size, job_count) in enumerate(zip(TENANTS, sizes, job_counts, strict=True)):
        people = _People(tenant, tenant_id(tenant, options.seed), options, index)
        candidates += [people.candidate(n) for n in range(1, size + 1)]
        jobs += [people.job(n) for n in range(job_count)]
    return DemoDataset(
        options=options,
        tenant_ids=tuple(tenant_id(t, options.seed) for t in TENANTS),
        candidates=tuple(candidates),
        jobs=tuple(jobs),
    )


def _split(total: int, shares: Sequence[float]) -> list[int]:
    """`total` split by `shares`, each part at least 1, the last taking the rounding."""
    parts = [max(1, round(total * share)) for share in shares[:-1]]
    return [*parts, max(1, total - sum(parts))]


class _People:
    """One tenant's generator: its own Faker and random stream, both seeded."""

    def __init__(self, tenant: DemoTenant, tenant_id: str, options: DemoOptions, index: int):
        self.tenant = tenant
        self.tenant_id = tenant_id
        self.at = options.at
        # Reproducible data, not secrets: a seeded PRNG is the point.
        self.random = random.Random(f"{options.seed}/{tenant.name}")  # noqa: S311
        self.fake = Faker(list(tenant.locales))
        self.fake.seed_instance(options.seed * 100 + index)
        self.trades = [TRADES[name] for name in tenant.trades]

    # Candidates.

    def candidate(self, number: int) -> CandidateUpdated:
        rnd = self.random
        trade = rnd.choice(self.trades)
        first, last = self.fake.first_name(), self.fake.last_name()
        last_activity = self._last_activity()
        email, status = self._email(first, last, number)
        return CandidateUpdated(
            tenant_id=self.tenant_id,
            candidate_id=f"C-{number:05d}",
            email=email,
            first_name=first,
            last_name=last,
            credentials=self._credentials(trade),
            location=self.fake.city(),
            last_activity_at=last_activity,
            do_not_contact=rnd.random() < 0.04,
            email_status=status,
            consent_expires_at=self._consent(),
            applications=self._applications(trade, last_activity),
            # Snapshots a day before the jobs open, one second apart, in id order.
            updated_at=self.at - _DAY + timedelta(seconds=number),
        )

    def _last_activity(self) -> datetime | None:
        if self.random.random() < 0.04:
            return None
        days = self.random.randint(2, 820)
        return self.at - days * _DAY - timedelta(seconds=self.random.randint(0, 86_399))

    def _email(self, first: str, last: str, number: int) -> tuple[str | None, str]:
        roll = self.random.random()
        local = f"{_ascii(first)}.{_ascii(last)}{number}".strip(".") or f"candidate{number}"
        domain = self.fake.safe_domain_name()
        if roll < 0.03:
            return None, "unknown"
        if roll < 0.06:
            return f"{local}.{domain}", "unknown"  # no @: syntactically invalid
        if roll < 0.09:
            return f"{local}@{domain}", "bounced"
        if roll < 0.11:
            return f"{local}@{domain}", "invalid"
        return f"{local}@{domain}", "valid" if roll < 0.55 else "unknown"

    def _credentials(self, trade: Trade) -> tuple[str, ...]:
        rnd = self.random
        held = [c for c in trade.core if rnd.random() < 0.72]
        held += [c for c in trade.extra if rnd.random() < 0.3]
        if rnd.random() < 0.15:
            other = rnd.choice([t for t in TRADES.values() if t is not trade])
            held.append(rnd.choice(other.core))
        return tuple(_spelled(c, rnd) for c in dict.fromkeys(held))

    def _consent(self) -> datetime | None:
        roll = self.random.random()
        if roll < 0.04:
            return self.at - self.random.randint(1, 300) * _DAY  # already expired
        if roll < 0.08:
            return self.at + self.random.randint(30, 700) * _DAY
        return None

    def _applications(
        self, trade: Trade, last_activity: datetime | None
    ) -> tuple[Application, ...]:
        rnd = self.random
        count = rnd.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]
        latest = last_activity or self.at - 400 * _DAY
        applications = []
        for _ in range(count):
            applications.append(
                Application(
                    job_id=f"OLD-{rnd.randint(100, 999)}",
                    job_title=rnd.choice(trade.titles),
                    applied_at=latest - rnd.randint(0, 300) * _DAY,
                    status=rnd.choice(("rejected", "withdrawn", "not selected")),
                )
            )
        return tuple(applications)

    # Jobs.

    def job(self, index: int) -> JobOpened:
        # The third job asks for the first one's trade again: the cooldown shows.
        trade = self.trades[_TRADE_ORDER[index % len(_TRADE_ORDER)] % len(self.trades)]
        title = trade.titles[(index // 2) % len(trade.titles)]
        required = trade.core[: 1 + index % 2]
        job_id = f"JOB-{101 + index}"
        return JobOpened(
            tenant_id=self.tenant_id,
            job_id=job_id,
            title=title,
            required_credentials=required,
            preferred_credentials=trade.extra[:2],
            location=self.fake.city(),
            apply_url=f"https://jobs.example.com/{self.tenant_id}/{job_id}",
            # Ten minutes apart: people requested for one job are in cooldown for the next.
            opened_at=self.at + timedelta(minutes=10 * index),
            policy=_POLICIES[index % len(_POLICIES)],
        )


def _ascii(name: str) -> str:
    """`Noël Gárate` -> `noel.garate`-style address parts."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch in "-"))
    return letters.lower()


def _spelled(credential: str, rnd: random.Random) -> str:
    """Credentials as people type them: the matcher normalises these to one."""
    roll = rnd.random()
    if roll < 0.06:
        return credential.upper()
    if roll < 0.12:
        return credential.lower()
    if roll < 0.15:
        return f"  {credential} "
    if roll < 0.16:
        return _full_width(credential)
    return credential


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
