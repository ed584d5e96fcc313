"""Every rule and boundary of REENGAGEMENT.md's eligibility, one table row each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.unit.rules.factories import (
    DAY,
    DEFAULT_POLICY,
    MICROSECOND,
    T,
    make_candidate,
    make_job,
    outreach,
)
from worker.rules.eligibility import (
    Exclusion,
    effective_policy,
    first_failing_rule,
    first_failure,
    inactive_days,
)
from worker.rules.model import EmailStatus, PastOutreach, Policy, PolicyOverride

E = Exclusion

# (id, candidate changes, job changes, past outreach, policy, at (None: T), expected rule)
Row = tuple[
    str, dict[str, Any], dict[str, Any], tuple[PastOutreach, ...], Policy, Any, Exclusion | None
]

NO_PAST: tuple[PastOutreach, ...] = ()
P = DEFAULT_POLICY

ROWS: list[Row] = [
    ("baseline is eligible", {}, {}, NO_PAST, P, None, None),
    # Rule 1: tenants never mix, and it is checked first.
    ("other tenant", {"tenant_id": "globex"}, {}, NO_PAST, P, None, E.OTHER_TENANT),
    (
        "other tenant before any other rule",
        {"tenant_id": "globex", "do_not_contact": True, "last_activity_at": None},
        {},
        NO_PAST,
        P,
        None,
        E.OTHER_TENANT,
    ),
    # Rule 2: opened and not closed since.
    ("open job at a later T", {}, {}, NO_PAST, P, T + 10 * DAY, None),
    (
        "closed after opening and before T",
        {},
        {"closed_at": T + 5 * DAY},
        NO_PAST,
        P,
        T + 10 * DAY,
        E.JOB_CLOSED,
    ),
    (
        "closed after T still closed (close already recorded)",
        {},
        {"closed_at": T + DAY},
        NO_PAST,
        P,
        None,
        E.JOB_CLOSED,
    ),
    ("closed at the opening instant", {}, {"closed_at": T}, NO_PAST, P, None, E.JOB_CLOSED),
    ("closed before a reopen is open", {}, {"closed_at": T - DAY}, NO_PAST, P, None, None),
    ("T before the job opened", {}, {}, NO_PAST, P, T - MICROSECOND, E.JOB_NOT_YET_OPEN),
    (
        "job rule before candidate rules",
        {"do_not_contact": True},
        {"closed_at": T},
        NO_PAST,
        P,
        None,
        E.JOB_CLOSED,
    ),
    # Rule 3.
    ("do not contact", {"do_not_contact": True}, {}, NO_PAST, P, None, E.DO_NOT_CONTACT),
    (
        "do not contact before a bounced email",
        {"do_not_contact": True, "email_status": EmailStatus.BOUNCED},
        {},
        NO_PAST,
        P,
        None,
        E.DO_NOT_CONTACT,
    ),
    # Rule 4.
    ("missing email", {"email": None}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    ("empty email", {"email": ""}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    ("blank email", {"email": "   "}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    ("two at-signs", {"email": "jane@@example.com"}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    ("no domain dot", {"email": "jane@localhost"}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    ("special-use domain", {"email": "jane@shop.test"}, {}, NO_PAST, P, None, E.EMAIL_UNUSABLE),
    (
        "stored syntax flag is what counts",
        {"email_syntax_valid": False},
        {},
        NO_PAST,
        P,
        None,
        E.EMAIL_UNUSABLE,
    ),
    (
        "international address is valid",
        {"email": "jörg@exämple.de"},
        {},
        NO_PAST,
        P,
        None,
        None,
    ),
    (
        "bounced",
        {"email_status": EmailStatus.BOUNCED},
        {},
        NO_PAST,
        P,
        None,
        E.EMAIL_UNUSABLE,
    ),
    (
        "invalid status",
        {"email_status": EmailStatus.INVALID},
        {},
        NO_PAST,
        P,
        None,
        E.EMAIL_UNUSABLE,
    ),
    ("valid status", {"email_status": EmailStatus.VALID}, {}, NO_PAST, P, None, None),
    (
        "mailer reported bounce",
        {"email_suppressed": True, "email_status": EmailStatus.VALID},
        {},
        NO_PAST,
        P,
        None,
        E.EMAIL_UNUSABLE,
    ),
    # Rule 5: consent must end strictly after T.
    ("consent ends at T", {"consent_expires_at": T}, {}, NO_PAST, P, None, E.CONSENT_EXPIRED),
    (
        "consent ended before T",
        {"consent_expires_at": T - MICROSECOND},
        {},
        NO_PAST,
        P,
        None,
        E.CONSENT_EXPIRED,
    ),
    ("consent ends after T", {"consent_expires_at": T + MICROSECOND}, {}, NO_PAST, P, None, None),
    # Rule 6: both bounds inclusive, days floored.
    ("no activity", {"last_activity_at": None}, {}, NO_PAST, P, None, E.NO_ACTIVITY),
    (
        "179 days",
        {"last_activity_at": T - 179 * DAY},
        {},
        NO_PAST,
        P,
        None,
        E.NOT_DORMANT_ENOUGH,
    ),
    (
        "a microsecond short of 180 days is 179",
        {"last_activity_at": T - 180 * DAY + MICROSECOND},
        {},
        NO_PAST,
        P,
        None,
        E.NOT_DORMANT_ENOUGH,
    ),
    ("exactly 180 days", {"last_activity_at": T - 180 * DAY}, {}, NO_PAST, P, None, None),
    ("exactly 450 days", {"last_activity_at": T - 450 * DAY}, {}, NO_PAST, P, None, None),
    (
        "450 days and 23 hours is 450",
        {"last_activity_at": T - 450 * DAY - timedelta(hours=23, minutes=59)},
        {},
        NO_PAST,
        P,
        None,
        None,
    ),
    (
        "451 days",
        {"last_activity_at": T - 451 * DAY},
        {},
        NO_PAST,
        P,
        None,
        E.INACTIVE_TOO_LONG,
    ),
    (
        "activity after T is negative, even with min 0",
        {"last_activity_at": T + MICROSECOND},
        {},
        NO_PAST,
        Policy(min_inactive_days=0),
        None,
        E.NOT_DORMANT_ENOUGH,
    ),
    (
        "activity at T is 0 days",
        {"last_activity_at": T},
        {},
        NO_PAST,
        Policy(min_inactive_days=0),
        None,
        None,
    ),
    # Rule 7: normalised containment.
    ("full-width", {"credentials": ("ＳＱＬ", "ＴＡＢＬＥＡＵ")}, {}, NO_PAST, P, None, None),
    ("mixed case", {"credentials": ("sQl", "TaBlEaU")}, {}, NO_PAST, P, None, None),
    (
        "surrounding and inner whitespace",
        {"credentials": ("  SQL\t", "Power \u00a0  BI", "tableau ")},
        {"required_credentials": ("SQL", "power bi", "Tableau")},
        NO_PAST,
        P,
        None,
        None,
    ),
    (
        "full-width required, plain candidate",
        {"credentials": ("python",)},
        {"required_credentials": ("ＰＹＴＨＯＮ",)},
        NO_PAST,
        P,
        None,
        None,
    ),
    (
        "casefold, not lower",
        {"credentials": ("straße",)},
        {"required_credentials": ("STRASSE",)},
        NO_PAST,
        P,
        None,
        None,
    ),
    (
        "inner space matters",
        {"credentials": ("S QL", "Tableau")},
        {},
        NO_PAST,
        P,
        None,
        E.MISSING_CREDENTIALS,
    ),
    ("one missing", {"credentials": ("SQL",)}, {}, NO_PAST, P, None, E.MISSING_CREDENTIALS),
    (
        "no required credentials passes everyone",
        {"credentials": ()},
        {"required_credentials": ()},
        NO_PAST,
        P,
        None,
        None,
    ),
    # Rule 8: once per job per candidate, forever.
    (
        "requested for this job long ago",
        {},
        {},
        (outreach("J1", T - 900 * DAY),),
        P,
        None,
        E.ALREADY_REQUESTED,
    ),
    (
        "requested for this job after T",
        {},
        {},
        (outreach("J1", T + DAY),),
        P,
        None,
        E.ALREADY_REQUESTED,
    ),
    (
        "same ids in another tenant do not count",
        {},
        {},
        (outreach("J1", T, tenant_id="globex"),),
        P,
        None,
        None,
    ),
    (
        "another candidate's outreach does not count",
        {},
        {},
        (outreach("J1", T, candidate_id="C2"),),
        P,
        None,
        None,
    ),
    # Rule 9: (T - cooldown, T + cooldown).
    ("outreach exactly 21 days before", {}, {}, (outreach("J0", T - 21 * DAY),), P, None, None),
    (
        "outreach just inside 21 days",
        {},
        {},
        (outreach("J0", T - 21 * DAY + MICROSECOND),),
        P,
        None,
        E.COOLDOWN,
    ),
    ("outreach at T", {}, {}, (outreach("J0", T),), P, None, E.COOLDOWN),
    # ... and [T, T + cooldown) too: outreach for a later job decided first (another worker).
    (
        "outreach just after T (a later job decided first)",
        {},
        {},
        (outreach("J0", T + MICROSECOND),),
        P,
        None,
        E.COOLDOWN,
    ),
    (
        "outreach just inside 21 days after",
        {},
        {},
        (outreach("J0", T + 21 * DAY - MICROSECOND),),
        P,
        None,
        E.COOLDOWN,
    ),
    ("outreach exactly 21 days after", {}, {}, (outreach("J0", T + 21 * DAY),), P, None, None),
    (
        "no cooldown configured",
        {},
        {},
        (outreach("J0", T),),
        Policy(cooldown_days=0),
        None,
        None,
    ),
    (
        "other tenant's outreach does not cool down",
        {},
        {},
        (outreach("J0", T, tenant_id="globex"),),
        P,
        None,
        None,
    ),
    (
        "rule 7 is reported before rule 9",
        {"credentials": ()},
        {},
        (outreach("J0", T),),
        P,
        None,
        E.MISSING_CREDENTIALS,
    ),
    (
        "rule 8 is reported before rule 9",
        {},
        {},
        (outreach("J1", T), outreach("J0", T)),
        P,
        None,
        E.ALREADY_REQUESTED,
    ),
]


@pytest.mark.parametrize(
    ("candidate_changes", "job_changes", "past", "policy", "at", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_first_failing_rule(
    candidate_changes: dict[str, Any],
    job_changes: dict[str, Any],
    past: tuple[PastOutreach, ...],
    policy: Policy,
    at: Any,
    expected: Exclusion | None,
) -> None:
    candidate = make_candidate(**candidate_changes)
    job = make_job(**job_changes)
    moment = T if at is None else at
    assert first_failing_rule(candidate, job, moment, policy, past) == expected


@pytest.mark.parametrize(("requested_at", "side"), [(T - DAY, "before"), (T + DAY, "after")])
def test_a_cooldown_explanation_says_on_which_side_of_t_the_other_outreach_is(
    requested_at: Any, side: str
) -> None:
    failure = first_failure(make_candidate(), make_job(), T, P, (outreach("J0", requested_at),))
    assert failure is not None and failure.rule == Exclusion.COOLDOWN
    assert failure.detail.endswith(f"within 21 days {side} this job's time")


def test_every_rule_has_a_row() -> None:
    covered = {row[-1] for row in ROWS}
    assert covered == set(Exclusion) - {Exclusion.CAP_REACHED} | {None}


@pytest.mark.parametrize(
    ("elapsed", "days"),
    [
        (timedelta(0), 0),
        (MICROSECOND, 0),
        (DAY - MICROSECOND, 0),
        (DAY, 1),
        (180 * DAY - MICROSECOND, 179),
        (450 * DAY + timedelta(hours=23), 450),
        (-MICROSECOND, -1),
        (-DAY, -1),
        (-DAY - MICROSECOND, -2),
    ],
)
def test_inactive_days_floors(elapsed: timedelta, days: int) -> None:
    assert inactive_days(T, T - elapsed) == days


def test_inactive_days_across_offsets() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    # 2026-05-24T10:30+01:00 is 09:30Z: exactly 180 days before T.
    last = (T - 180 * DAY).astimezone(paris)
    assert inactive_days(T, last) == 180


def test_failure_details_explain_without_personal_data() -> None:
    candidate = make_candidate(email="jane.doe@example.com", credentials=("sql",))
    failure = first_failure(candidate, make_job(), T, DEFAULT_POLICY, ())
    assert failure is not None
    assert failure.rule is Exclusion.MISSING_CREDENTIALS
    assert failure.detail == "missing required credentials: Tableau"

    bounced = make_candidate(email_status=EmailStatus.BOUNCED)
    failure = first_failure(bounced, make_job(), T, DEFAULT_POLICY, ())
    assert failure is not None
    assert "jane" not in failure.detail
    assert "@" not in failure.detail

    cooled = first_failure(
        make_candidate(), make_job(), T, DEFAULT_POLICY, (outreach("J0", T - 2 * DAY),)
    )
    assert cooled is not None
    assert "J0" in cooled.detail
    assert "21 days" in cooled.detail

    # "Why wasn't X contacted?" about someone who was: when (the first request for the job).
    again = first_failure(
        make_candidate(),
        make_job(),
        T,
        DEFAULT_POLICY,
        (outreach("J1", T - 3 * DAY), outreach("J1", T - 5 * DAY)),
    )
    assert again is not None and again.rule is Exclusion.ALREADY_REQUESTED
    assert again.detail.endswith(f"at {(T - 5 * DAY).isoformat()}")

    young = first_failure(
        make_candidate(last_activity_at=T - 10 * DAY), make_job(), T, DEFAULT_POLICY, ()
    )
    assert young is not None
    assert young.detail == "inactive 10 days; the policy asks for 180 to 450"


def test_missing_credentials_named_once_in_job_spelling() -> None:
    job = make_job(required_credentials=("Tableau", "TABLEAU", "SQL"))
    failure = first_failure(make_candidate(credentials=("sql",)), job, T, DEFAULT_POLICY, ())
    assert failure is not None
    assert failure.detail == "missing required credentials: Tableau"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (PolicyOverride(), Policy(180, 450, 21, 100, 30)),
        (PolicyOverride(min_inactive_days=90), Policy(90, 450, 21, 100, 30)),
        (PolicyOverride(max_inactive_days=700), Policy(180, 700, 21, 100, 30)),
        (PolicyOverride(max_outreach=0), Policy(180, 450, 21, 0, 30)),
        (PolicyOverride(30, 60, 5), Policy(30, 60, 21, 5, 30)),
    ],
)
def test_effective_policy(override: PolicyOverride, expected: Policy) -> None:
    assert effective_policy(make_job(policy=override), Policy()) == expected


def test_effective_policy_keeps_deployment_cooldown_and_window() -> None:
    defaults = Policy(cooldown_days=7, reverse_match_window_days=3, max_outreach=9)
    policy = effective_policy(make_job(policy=PolicyOverride(min_inactive_days=1)), defaults)
    assert policy == Policy(1, 450, 7, 9, 3)


def test_job_override_applies_to_eligibility() -> None:
    job = make_job(policy=PolicyOverride(min_inactive_days=30, max_inactive_days=60))
    policy = effective_policy(job, DEFAULT_POLICY)
    recent = make_candidate(last_activity_at=T - 45 * DAY)
    assert first_failing_rule(recent, job, T, policy, ()) is None
    assert first_failing_rule(make_candidate(), job, T, policy, ()) is E.INACTIVE_TOO_LONG
