"""Random pools, jobs, policies and outreach histories that hit the rules' edges.

Pools are built from a seed with `random.Random` rather than field by field with hypothesis:
hypothesis caps how much one example may draw, which keeps field-by-field pools to a few dozen
candidates, and the property is about pools of hundreds. A failing example still reproduces
(hypothesis reports the seed and the size). Shared with the store's property tests, which
compare the SQL matcher to the reference on the same data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import strategies as st

from tests.unit.rules.factories import DAY, TENANT, T
from worker.rules.model import Application, Candidate, EmailStatus, Job, PastOutreach, Policy

OTHER_TENANT = "globex"
CREDENTIALS = ("SQL", "Tableau", "Python", "dbt", "Power BI", "Go")
JOB_IDS = ("J1", "J2", "J3")
# Ids whose byte order differs from case-insensitive or numeric order.
ID_ALPHABET = "aAbBzZ-019é"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spellings(name: str) -> list[str]:
    """The ways one credential is written that all normalise to the same value."""
    return [name, name.upper(), name.lower(), full_width(name), f"  {name} ", name.swapcase()]


def _rarely(rng: random.Random, chance: float = 0.1) -> bool:
    return rng.random() < chance


def moment_near(rng: random.Random, centre: datetime, days: int) -> datetime:
    """A time within `days` of `centre`: half the time on a whole-day boundary, where the
    inclusive and exclusive bounds differ."""
    if rng.random() < 0.5:
        return centre + rng.randint(-days, days) * DAY
    return centre + timedelta(
        microseconds=rng.randint(-days * 86_400_000_000, days * 86_400_000_000)
    )


def random_candidate(rng: random.Random, candidate_id: str) -> Candidate:
    email = rng.choice(["x@example.com"] * 8 + [None, "not-an-address"])
    activity = rng.choice(
        [
            None,
            moment_near(rng, T - 180 * DAY, 12),
            moment_near(rng, T - 450 * DAY, 12),
            moment_near(rng, T - 300 * DAY, 150),
            moment_near(rng, T - 300 * DAY, 150),
            moment_near(rng, T, 3),
        ]
    )
    held = [rng.choice(spellings(name)) for name in CREDENTIALS if rng.random() < 0.7]
    held += rng.choice([[], [], ["Excel"], ["S QL"]])
    rng.shuffle(held)
    applications = tuple(
        Application(
            job_id=rng.choice(["P1", "P2", "P3"]),
            job_title=rng.choice(["Data Analyst", "Clerk"]),
            applied_at=moment_near(rng, T - 400 * DAY, 400),
        )
        for _ in range(rng.randint(0, 3))
    )
    return Candidate(
        tenant_id=OTHER_TENANT if _rarely(rng) else TENANT,
        candidate_id=candidate_id,
        email=email,
        email_syntax_valid=email == "x@example.com",
        email_status=rng.choice(
            [EmailStatus.UNKNOWN] * 6 + [EmailStatus.VALID] * 2 + list(EmailStatus)
        ),
        email_suppressed=_rarely(rng),
        do_not_contact=_rarely(rng),
        consent_expires_at=moment_near(rng, T, 2) if _rarely(rng, 0.3) else None,
        last_activity_at=activity,
        credentials=tuple(held),
        updated_at=T,
        applications=applications,
    )


def random_ids(rng: random.Random, size: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < size:
        ids.add("".join(rng.choice(ID_ALPHABET) for _ in range(rng.randint(1, 5))))
    return sorted(ids)


def random_pool(rng: random.Random, size: int) -> list[Candidate]:
    pool = [random_candidate(rng, candidate_id) for candidate_id in random_ids(rng, size)]
    rng.shuffle(pool)
    return pool


def random_history(rng: random.Random, pool: list[Candidate], size: int) -> list[PastOutreach]:
    ids = [c.candidate_id for c in pool] + ["ghost-1", "ghost-2", "ghost-3"]
    return [
        PastOutreach(
            tenant_id=OTHER_TENANT if _rarely(rng) else TENANT,
            job_id=rng.choice(JOB_IDS),
            candidate_id=rng.choice(ids),
            requested_at=rng.choice(
                [
                    moment_near(rng, T - 21 * DAY, 2),
                    moment_near(rng, T - DAY, 1),
                    moment_near(rng, T, 30),
                ]
            ),
        )
        for _ in range(size)
    ]


@st.composite
def pools_with_history(
    draw: st.DrawFn, max_size: int = 300
) -> tuple[list[Candidate], list[PastOutreach]]:
    # Small pools find bugs of edges; large ones, of ranking and the cap.
    size = draw(st.integers(0, min(20, max_size)) | st.integers(max_size // 3, max_size))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    pool = random_pool(rng, size)
    return pool, random_history(rng, pool, rng.randint(0, max(3, size // 10)))


credential = st.sampled_from(CREDENTIALS).flatmap(lambda name: st.sampled_from(spellings(name)))


@st.composite
def jobs(draw: st.DrawFn, job_id: str = "J1", opened_at: datetime = T) -> Job:
    return Job(
        tenant_id=TENANT,
        job_id=job_id,
        title="Senior Data Analyst",
        required_credentials=tuple(draw(st.lists(credential, max_size=2))),
        preferred_credentials=tuple(draw(st.lists(credential, max_size=4))),
        opened_at=opened_at,
        closed_at=draw(st.sampled_from([None] * 9 + [opened_at + DAY])),
    )


policies = st.builds(
    Policy,
    min_inactive_days=st.sampled_from([0, 90, 180, 180]),
    max_inactive_days=st.sampled_from([180, 450, 450, 600]),
    cooldown_days=st.sampled_from([0, 1, 21]),
    max_outreach=st.sampled_from([0, 1, 2, 3, 5, 10, 25, 60, 100]),
    reverse_match_window_days=st.sampled_from([0, 7, 30, 30]),
)
