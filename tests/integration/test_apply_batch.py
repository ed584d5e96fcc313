"""One batch, one transaction (`apply_batch`), on SQLite and PostgreSQL: the processed markers
decide what is a duplicate, and each candidate snapshot's outcome comes back in batch order."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select

from worker.contracts.ats import CandidateErased, CandidateUpdated, JobClosed, JobOpened
from worker.contracts.encode import ats_event
from worker.contracts.encode import outreach_failed as encode_failed
from worker.contracts.encode import outreach_sent as encode_sent
from worker.contracts.envelope import AnyEvent
from worker.contracts.outreach import outreach_id
from worker.contracts.status import OutreachFailed, OutreachSent
from worker.ingest.batch import BatchReport, Incoming, apply_batch
from worker.ingest.context import Decision, IngestConfig, Origin
from worker.ingest.dedupe import claim_unprocessed, delete_expired_markers
from worker.kafka.records import Record
from worker.rules.model import Policy
from worker.runtime.metrics import Outcome
from worker.store.candidates import load_candidates
from worker.store.engine import create_store_engine
from worker.store.schema import CandidateRow, OutboxRow, OutreachRow, ProcessedEventRow

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TENANT = "acme"
SOURCE = "urn:ats:test"
CONFIG = IngestConfig(Policy(), "reengage.outreach", "urn:reengage:test")
RETAINED = IngestConfig(
    Policy(), "reengage.outreach", "urn:reengage:test", dedupe_retention=timedelta(days=7)
)
PROCESSED, STALE, DUPLICATE = Outcome.PROCESSED, Outcome.STALE, Outcome.DUPLICATE


@pytest.fixture
def engine(migrated: str) -> Iterator[Engine]:
    engine = create_store_engine(migrated)
    yield engine
    engine.dispose()


def updated(event_id: str, candidate_id: str, at: datetime, **changes: object) -> Incoming:
    data = CandidateUpdated.model_validate(
        {
            "tenant_id": TENANT,
            "candidate_id": candidate_id,
            "email": f"{candidate_id}@example.com",
            "updated_at": at,
            **changes,
        }
    )
    return _incoming(ats_event(data, event_id=event_id, source=SOURCE).event)


def erased(event_id: str, candidate_id: str, at: datetime) -> Incoming:
    data = CandidateErased(tenant_id=TENANT, candidate_id=candidate_id, erased_at=at)
    return _incoming(ats_event(data, event_id=event_id, source=SOURCE).event)


def _incoming(event: AnyEvent) -> Incoming:
    return Incoming(Record("ats.candidates", 0, 0, None, None), event)


def apply(engine: Engine, batch: Sequence[Incoming], config: IngestConfig = CONFIG) -> BatchReport:
    with engine.begin() as connection:
        return apply_batch(connection, batch, config)


def markers(engine: Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).select_from(ProcessedEventRow)
        ).scalar_one()
        return count


def test_repeats_in_the_batch_and_events_of_earlier_batches_are_duplicates(
    engine: Engine,
) -> None:
    first = apply(
        engine,
        [
            updated("e-1", "c-1", T),
            updated("e-2", "c-2", T),
            updated("e-1", "c-1", T),  # the same event again, in the same batch
        ],
    )
    again = apply(engine, [updated("e-2", "c-2", T), updated("e-3", "c-3", T)])
    assert first.outcomes == [PROCESSED, PROCESSED, DUPLICATE]
    assert again.outcomes == [DUPLICATE, PROCESSED]
    assert markers(engine) == 3


def test_a_rolled_back_batch_leaves_no_marker(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        apply_batch(connection, [updated("e-1", "c-1", T)], CONFIG)
        raise RuntimeError("the batch failed after the markers were written")
    assert markers(engine) == 0
    assert apply(engine, [updated("e-1", "c-1", T)]).outcomes == [PROCESSED]


def test_snapshot_outcomes_come_back_in_batch_order(engine: Engine) -> None:
    report = apply(
        engine,
        [
            updated("e-1", "c-1", T, credentials=["Python"]),
            updated("e-2", "c-2", T),
            updated("e-3", "c-1", T + DAY, credentials=["Rust"]),
            updated("e-4", "c-1", T - DAY, credentials=["Cobol"]),  # older than the stored one
            erased("e-5", "c-2", T + DAY),
            updated("e-6", "c-2", T + DAY),  # refused by the tombstone
            updated("e-7", "c-1", T + 2 * DAY, credentials=["Go", "rust"]),
        ],
    )
    with engine.connect() as connection:
        stored = load_candidates(connection, TENANT, ["c-1", "c-2"])
    assert report.outcomes == [PROCESSED, PROCESSED, PROCESSED, STALE, PROCESSED, STALE, PROCESSED]
    assert stored["c-1"].credentials == ("Go", "rust")
    assert stored["c-1"].updated_at == T + 2 * DAY
    assert stored["c-2"].email is None  # erased


def opened(
    event_id: str,
    job_id: str,
    at: datetime,
    tenant_id: str = TENANT,
    policy: dict[str, int] | None = None,
) -> Incoming:
    data = JobOpened.model_validate(
        {
            "tenant_id": tenant_id,
            "job_id": job_id,
            "title": "Analyst",
            "required_credentials": ["SQL"],
            "opened_at": at,
            "policy": policy,
        }
    )
    return _incoming(ats_event(data, event_id=event_id, source=SOURCE).event)


def closed(event_id: str, job_id: str, at: datetime) -> Incoming:
    data = JobClosed(tenant_id=TENANT, job_id=job_id, closed_at=at)
    return _incoming(ats_event(data, event_id=event_id, source=SOURCE).event)


def outreach_states(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutreachRow.candidate_id, OutreachRow.status))
        return {candidate_id: status for candidate_id, status in rows}


def test_jobs_on_two_partitions_are_decided_in_the_order_they_opened(engine: Engine) -> None:
    """One poll hands out partition 0 (a job opened at 09:20) before partition 1 (a job opened
    at 09:00, the recommended key spreads a tenant's jobs). Decided in that order, the 09:00
    job would not count the 09:20 job's outreach (rule 9 looks back from its own time) and
    would contact the same people again twenty minutes apart."""
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(engine, [updated(f"e-{c}", c, T - 30 * DAY, **dormant) for c in ("c-1", "c-2")])
    later, earlier = opened("e-o2", "j-2", T + DAY / 72), opened("e-o1", "j-1", T)
    batch = [
        Incoming(Record("ats.jobs", 0, 7, None, None), later.event),
        Incoming(Record("ats.jobs", 1, 3, None, None), earlier.event),
    ]
    report = apply(engine, batch)
    assert report.outcomes == [PROCESSED, PROCESSED]  # in the batch's order
    with engine.connect() as connection:
        rows = connection.execute(select(OutreachRow.job_id, OutreachRow.candidate_id)).all()
    assert sorted(tuple(row) for row in rows) == [("j-1", "c-1"), ("j-1", "c-2")]


def test_two_pairs_with_one_outreach_id_cost_the_second_job_only_that_candidate(
    engine: Engine,
) -> None:
    """The contract's id is UUIDv5 of "{tenant}/{job}/{candidate}" and ids may hold "/":
    (j, x/c) and (j/x, c) share one. The second claim skips that candidate instead of
    failing the job's whole match."""
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    candidates = ("x/c", "c", "d")
    apply(engine, [updated(f"e-{c}", c, T - 30 * DAY, **dormant) for c in candidates])
    assert outreach_id(TENANT, "j", "x/c") == outreach_id(TENANT, "j/x", "c")
    apply(engine, [opened("e-o1", "j", T)])
    report = apply(engine, [opened("e-o2", "j/x", T + 60 * DAY)])  # past the cooldown

    assert report.outcomes == [PROCESSED]
    with engine.connect() as connection:
        rows = connection.execute(select(OutreachRow.job_id, OutreachRow.candidate_id)).all()
    assert sorted(rows) == [("j", "c"), ("j", "d"), ("j", "x/c"), ("j/x", "d"), ("j/x", "x/c")]

    # A bounce naming the pair that does not hold the shared id is about nothing sent: c keeps
    # its address. One naming the pair that holds it suppresses x/c's.
    apply(engine, [_report("failed", TENANT, "c", (TENANT, "j/x", "c"))])
    assert _suppressed(engine)[(TENANT, "c")] is False
    apply(engine, [_report("failed", TENANT, "x/c", (TENANT, "j", "x/c"), mailer=":2")])
    assert _suppressed(engine)[(TENANT, "x/c")] is True


def test_a_job_whose_window_the_defaults_leave_empty_is_reported(engine: Engine) -> None:
    """min_inactive_days 500 is valid on its own; the deployment's max of 450 empties the
    window. The job is stored and decided (nobody), and the report names it for the log."""
    report = apply(
        engine,
        [
            opened("e-o1", "j-empty", T, policy={"min_inactive_days": 500}),
            opened("e-o2", "j-fine", T, policy={"min_inactive_days": 450}),
        ],
    )
    assert report.outcomes == [PROCESSED, PROCESSED]
    assert [
        (w.job_id, w.min_inactive_days, w.max_inactive_days) for w in report.effects.empty_windows
    ] == [("j-empty", 500, 450)]
    assert report.effects.empty_windows[0].origin is not None


def test_a_close_with_nothing_pending_reports_no_cancellation(engine: Engine) -> None:
    apply(engine, [opened("e-o1", "j-1", T)])  # nobody in the pool
    report = apply(engine, [closed("e-x1", "j-1", T + DAY)])
    assert report.outcomes == [PROCESSED]
    assert report.effects.cancelled == {}
    assert report.effects.decisions == []


def test_a_close_the_job_was_reopened_after_cancels_nothing(engine: Engine) -> None:
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(engine, [updated("e-c1", "c-1", T - 30 * DAY, **dormant)])
    apply(engine, [opened("e-o1", "j-1", T), closed("e-x1", "j-1", T + DAY)])
    apply(engine, [updated("e-c2", "c-2", T - 30 * DAY, **dormant)])
    apply(engine, [opened("e-o2", "j-1", T + 2 * DAY)])  # reopened: c-2 is requested
    assert outreach_states(engine) == {"c-1": "cancelled", "c-2": "requested"}

    # The first close again, under a new id (an ATS republishing its history): the job was
    # reopened after it, so it stays open and c-2's outreach stands.
    report = apply(engine, [closed("e-x1-again", "j-1", T + DAY)])
    assert report.effects.cancelled == {}
    assert outreach_states(engine) == {"c-1": "cancelled", "c-2": "requested"}

    # A close after the reopen does close it.
    report = apply(engine, [closed("e-x2", "j-1", T + 3 * DAY)])
    assert report.effects.cancelled == {"job_closed": 1}
    # Logged once committed: one line per outreach, with the event that led to it.
    assert report.effects.decisions == [
        Decision(
            "outreach cancelled",
            TENANT,
            "j-1",
            outreach_id(TENANT, "j-1", "c-2"),
            Origin("ats.candidates", 0, 0, "e-x2"),
            reason="job_closed",
        )
    ]
    assert outreach_states(engine) == {"c-1": "cancelled", "c-2": "cancelled"}


def test_match_time_is_observed_for_updates_with_open_jobs_to_match_only(engine: Engine) -> None:
    def matches_timed() -> float:
        return REGISTRY.get_sample_value("reengage_match_seconds_count") or 0.0

    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    before = matches_timed()
    apply(engine, [updated("e-c1", "c-1", T, **dormant)])  # no job open: nothing to match
    assert matches_timed() == before
    apply(engine, [opened("e-o1", "j-1", T + DAY)])  # the job's own match
    assert matches_timed() == before + 1
    apply(engine, [updated("e-c2", "c-2", T + 2 * DAY, **dormant)])  # reverse match against j-1
    assert matches_timed() == before + 2
    apply(engine, [updated("e-c3", "c-1", T + 3 * DAY, do_not_contact=True)])  # a cancellation
    assert matches_timed() == before + 2


def test_an_event_whose_source_and_id_are_at_their_longest_is_applied_once(
    engine: Engine,
) -> None:
    """1,024 and 256 characters of 4 bytes each: over PostgreSQL's index entry limit as
    text, so the marker keeps them as digests."""
    rng = random.Random(5)

    def text(n: int) -> str:  # varied, so that PostgreSQL cannot compress the entry
        return "".join(chr(rng.randrange(0x20000, 0x2A6DF)) for _ in range(n))

    source, event_id = text(1024), text(256)
    data = CandidateUpdated.model_validate(
        {"tenant_id": TENANT, "candidate_id": "c-1", "email": "c-1@example.com", "updated_at": T}
    )
    event = ats_event(data, event_id=event_id, source=source).event
    assert apply(engine, [_incoming(event)]).outcomes == [PROCESSED]
    assert apply(engine, [_incoming(event)]).outcomes == [DUPLICATE]
    assert markers(engine) == 1


def test_an_event_id_spelled_as_the_digest_of_a_long_one_is_another_event(
    engine: Engine,
) -> None:
    """The marker of a long id is its digest: an id spelled that way is not that event."""
    long_id = "\U00020000" * 256
    lookalike = "sha256:" + hashlib.sha256(long_id.encode()).hexdigest()
    first, second = (
        ats_event(
            CandidateUpdated.model_validate(
                {
                    "tenant_id": TENANT,
                    "candidate_id": c,
                    "email": f"{c}@example.com",
                    "updated_at": T,
                }
            ),
            event_id=event_id,
            source="urn:ats:acme",
        ).event
        for c, event_id in (("c-1", long_id), ("c-2", lookalike))
    )
    assert apply(engine, [_incoming(first)]).outcomes == [PROCESSED]
    assert apply(engine, [_incoming(second)]).outcomes == [PROCESSED]
    assert apply(engine, [_incoming(second)]).outcomes == [DUPLICATE]
    assert markers(engine) == 2


def marker_expiries(engine: Engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(ProcessedEventRow.event_id, ProcessedEventRow.expires_at))
        return {event_id: expires_at for event_id, expires_at in rows}


def delete_expired(engine: Engine, now: datetime, limit: int = 100) -> int:
    with engine.begin() as connection:
        return delete_expired_markers(connection, now, limit)


def test_only_a_snapshots_marker_expires_and_its_repeat_then_decides_nothing(
    engine: Engine,
) -> None:
    """Without its marker a snapshot no newer than the stored one is stale: the repeat is
    counted stale instead of duplicate and changes nothing (here, a do-not-contact snapshot
    applied again would cancel the outreach a newer snapshot made possible). A job's marker
    is kept, since a job opened again is matched again."""
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    refusal = updated("e-c1", "c-1", T - 2 * DAY, do_not_contact=True, **dormant)
    before = datetime.now(UTC)
    assert apply(engine, [refusal], RETAINED).outcomes == [PROCESSED]
    after = datetime.now(UTC)
    later = [updated("e-c2", "c-1", T - DAY, **dormant), opened("e-o1", "j-1", T)]
    assert apply(engine, later, RETAINED).outcomes == [PROCESSED, PROCESSED]
    assert outreach_states(engine) == {"c-1": "requested"}
    expiries = marker_expiries(engine)
    assert expiries["e-o1"] is None
    refusal_expiry = expiries["e-c1"]
    assert refusal_expiry is not None
    assert before + 7 * DAY <= refusal_expiry <= after + 7 * DAY

    assert delete_expired(engine, refusal_expiry) == 0  # not before it expires
    assert delete_expired(engine, max(filter(None, expiries.values())) + DAY) == 2
    assert set(marker_expiries(engine)) == {"e-o1"}
    assert apply(engine, [refusal, *later], RETAINED).outcomes == [STALE, STALE, DUPLICATE]
    assert outreach_states(engine) == {"c-1": "requested"}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OutboxRow)).scalar_one() == 1


def test_expired_markers_go_a_chunk_at_a_time_and_kept_ones_stay(engine: Engine) -> None:
    apply(engine, [updated(f"e-{n}", f"c-{n}", T) for n in range(5)], RETAINED)
    apply(engine, [updated("e-kept", "c-kept", T)])  # no retention: kept for good
    later = datetime.now(UTC) + 8 * DAY
    assert [delete_expired(engine, later, limit=2) for _ in range(4)] == [2, 2, 1, 0]
    assert marker_expiries(engine) == {"e-kept": None}


def test_a_key_claimed_twice_keeps_its_marker_as_long_as_its_longest_claim(
    engine: Engine,
) -> None:
    """One (source, id) given to two events (a producer's mistake) is one marker: kept for
    good if either event's marker is, else until the later expiry."""
    soon, later = T + DAY, T + 2 * DAY
    with engine.begin() as connection:
        claimed = claim_unprocessed(
            connection,
            [
                ((SOURCE, "kept"), soon),
                ((SOURCE, "kept"), None),
                ((SOURCE, "later"), later),
                ((SOURCE, "later"), soon),
            ],
            T,
        )
    assert claimed == {(SOURCE, "kept"), (SOURCE, "later")}
    assert marker_expiries(engine) == {"kept": None, "later": later}


def _report(
    kind: str,
    tenant_id: str,
    candidate_id: str,
    of: tuple[str, str, str],
    reason: str = "bounced",
    mailer: str = "",
) -> Incoming:
    """A mailer report from `tenant_id` about `candidate_id`, naming the outreach of `of`
    (tenant, job, candidate), so a report can name someone else's outreach."""
    ids = {
        "outreach_id": outreach_id(*of),
        "tenant_id": tenant_id,
        "candidate_id": candidate_id,
        "job_id": of[1],
    }
    # Event ids derive from the outreach id: tenants and mailers keep them apart by source.
    source = f"urn:mailer:{tenant_id}{mailer}"
    if kind == "sent":
        sent = OutreachSent(**ids, sent_at=T + DAY, message_id="<m@x>")
        return _incoming(encode_sent(sent, source=source).event)
    failed = OutreachFailed(**ids, reason=reason, detail="550 5.1.1")
    return _incoming(encode_failed(failed, time=T + DAY, source=source).event)


def _suppressed(engine: Engine) -> dict[tuple[str, str], bool]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(CandidateRow.tenant_id, CandidateRow.candidate_id, CandidateRow.email_suppressed)
        )
        return {(tenant, candidate): bool(flag) for tenant, candidate, flag in rows}


def test_a_report_naming_another_tenants_outreach_changes_nothing(engine: Engine) -> None:
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(
        engine,
        [
            updated("e-a", "c-1", T - 30 * DAY, **dormant),
            updated("e-g", "c-1", T - 30 * DAY, tenant_id="globex", **dormant),
        ],
    )
    apply(engine, [opened("e-o1", "j-1", T)])
    assert outreach_states(engine) == {"c-1": "requested"}  # acme's; globex has no job
    acmes = (TENANT, "j-1", "c-1")

    # globex's mailer (or a forged report) names acme's outreach under its own tenant.
    report = apply(engine, [_report("sent", "globex", "c-1", acmes)])
    report = apply(engine, [_report("failed", "globex", "c-1", acmes)])
    assert report.effects.cancelled == {}
    assert outreach_states(engine) == {"c-1": "requested"}
    assert _suppressed(engine) == {(TENANT, "c-1"): False, ("globex", "c-1"): False}

    # The real reports: sent, then the bounce that came back later. The address is
    # suppressed even though the outreach stays `sent`.
    apply(engine, [_report("sent", TENANT, "c-1", acmes)])
    apply(engine, [_report("failed", TENANT, "c-1", acmes)])
    assert outreach_states(engine) == {"c-1": "sent"}
    assert _suppressed(engine) == {(TENANT, "c-1"): True, ("globex", "c-1"): False}


def test_whether_another_tenant_holds_the_named_outreach_changes_nothing(
    engine: Engine,
) -> None:
    """A bounce from globex naming acme's outreach id for globex's own candidate: whatever
    acme's store holds, globex's candidate keeps its address (the id is not the one the
    contract derives from globex's ids)."""
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(engine, [updated("e-g", "c-1", T - 30 * DAY, tenant_id="globex", **dormant)])
    apply(engine, [opened("e-og", "j-1", T, tenant_id="globex")])
    assert outreach_states(engine) == {"c-1": "requested"}  # globex's; acme holds nothing

    report = apply(engine, [_report("failed", "globex", "c-1", (TENANT, "j-1", "c-1"))])

    assert report.effects.cancelled == {}
    assert _suppressed(engine) == {("globex", "c-1"): False}
    assert outreach_states(engine) == {"c-1": "requested"}


def test_an_outreach_reported_failed_is_not_reported_sent_so_a_close_cancels_it(
    engine: Engine,
) -> None:
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(engine, [updated(f"e-{c}", c, T - 30 * DAY, **dormant) for c in ("c-1", "c-2")])
    apply(engine, [opened("e-o1", "j-1", T)])
    apply(
        engine,
        [
            _report("sent", TENANT, "c-1", (TENANT, "j-1", "c-1")),
            _report("failed", TENANT, "c-2", (TENANT, "j-1", "c-2"), "retries_exhausted"),
        ],
    )
    assert outreach_states(engine) == {"c-1": "sent", "c-2": "failed"}

    report = apply(engine, [closed("e-x1", "j-1", T + 2 * DAY)])
    assert report.effects.cancelled == {"job_closed": 1}
    # The row keeps what happened to it; the cancellation is recorded, and made only once.
    assert outreach_states(engine) == {"c-1": "sent", "c-2": "failed"}
    assert _cancel_reasons(engine) == {"c-1": None, "c-2": "job_closed"}
    report = apply(engine, [closed("e-x2", "j-1", T + 3 * DAY)])
    assert report.effects.decisions == []
    report = apply(engine, [updated("e-c2-dnc", "c-2", T + 4 * DAY, do_not_contact=True)])
    assert report.effects.decisions == []


def _cancel_reasons(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutreachRow.candidate_id, OutreachRow.cancel_reason))
        return {candidate_id: reason for candidate_id, reason in rows}


def test_a_bounce_makes_the_address_unusable_for_every_holder_in_the_tenant(
    engine: Engine,
) -> None:
    """Rule 4 names the address: the same person's other candidate record (an ATS often has
    one per application) loses it too, and its pending outreach is cancelled. Another
    tenant's candidate with that address keeps it."""
    dormant = {"credentials": ["SQL"], "last_activity_at": T - 200 * DAY}
    apply(
        engine,
        [
            updated("e-1", "c-1", T - 30 * DAY, email="Jane@Example.com", **dormant),
            updated("e-2", "c-2", T - 30 * DAY, email="jane@example.COM", **dormant),
            updated("e-3", "c-3", T - 30 * DAY, **dormant),
            updated("e-g", "c-4", T - 30 * DAY, tenant_id="globex", email="jane@example.com"),
        ],
    )
    apply(engine, [opened("e-o1", "j-1", T)])
    assert outreach_states(engine) == {"c-1": "requested", "c-2": "requested", "c-3": "requested"}

    apply(engine, [_report("sent", TENANT, "c-1", (TENANT, "j-1", "c-1"))])
    report = apply(engine, [_report("failed", TENANT, "c-1", (TENANT, "j-1", "c-1"))])

    assert report.effects.cancelled == {"email_unusable": 1}  # c-2's; c-1's was sent
    assert outreach_states(engine) == {"c-1": "sent", "c-2": "cancelled", "c-3": "requested"}
    assert _cancel_reasons(engine) == {"c-1": None, "c-2": "email_unusable", "c-3": None}
    assert _suppressed(engine) == {
        (TENANT, "c-1"): True,
        (TENANT, "c-2"): True,
        (TENANT, "c-3"): False,
        ("globex", "c-4"): False,
    }


def test_a_bounce_for_an_outreach_not_held_yet_still_suppresses(engine: Engine) -> None:
    """A replay into an empty store may read the status topic before the jobs topic has
    rebuilt the outreach: the bounce is about the candidate's address all the same."""
    apply(engine, [updated("e-g", "c-1", T - 30 * DAY, tenant_id="globex")])
    apply(engine, [_report("failed", "globex", "c-1", ("globex", "j-7", "c-1"))])
    assert _suppressed(engine) == {("globex", "c-1"): True}


def test_times_at_the_start_of_the_calendar_are_matched_not_refused(engine: Engine) -> None:
    """The contract accepts timestamps from 0001-01-02: windows reaching back before year 1
    start at the earliest instant instead of overflowing."""
    early = datetime(1, 1, 2, tzinfo=UTC)
    report = apply(
        engine,
        [
            updated("e-1", "c-1", early, credentials=["SQL"], last_activity_at=early),
            opened("e-2", "j-1", early + 200 * DAY),
            updated("e-3", "c-2", early + 10 * DAY, credentials=["SQL"], last_activity_at=early),
        ],
    )
    assert report.outcomes == [PROCESSED, PROCESSED, PROCESSED]
    assert outreach_states(engine) == {"c-1": "requested"}  # 200 days dormant at T
