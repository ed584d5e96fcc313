"""Print a preview: a rich table for people, a JSON document for scripts (`--json`).

User data is printed as text, never parsed as rich markup (a name like "[red]" stays literal),
with its control characters shown as U+FFFD (an ATS field holding an escape sequence must not
drive the recruiter's terminal), and email addresses appear masked in both forms: the preview
answers "who and why", for which the candidate id and name suffice. The JSON keeps the data as
stored, with every control character escaped (`\u001b`).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from worker.preview.report import Contact, Explained, PreviewReport, RequestedRow
from worker.rules.eligibility import Exclusion
from worker.rules.reason import Reason
from worker.text import printable

# What each rule means, for recruiters reading the exclusion table.
RULE_MEANINGS: dict[Exclusion, str] = {
    Exclusion.OTHER_TENANT: "belongs to another tenant",
    Exclusion.JOB_NOT_YET_OPEN: "the job was not open yet at this time",
    Exclusion.JOB_CLOSED: "the job is closed",
    Exclusion.DO_NOT_CONTACT: "marked do-not-contact",
    Exclusion.EMAIL_UNUSABLE: "no usable email address (missing, invalid, bounced or rejected)",
    Exclusion.CONSENT_EXPIRED: "contact consent expired",
    Exclusion.NO_ACTIVITY: "no recorded activity",
    Exclusion.NOT_DORMANT_ENOUGH: "active too recently",
    Exclusion.INACTIVE_TOO_LONG: "inactive for too long",
    Exclusion.MISSING_CREDENTIALS: "lacks a required credential",
    Exclusion.ALREADY_REQUESTED: "already contacted for this job",
    Exclusion.COOLDOWN: "contacted for another job within the cooldown, before or after",
    Exclusion.CAP_REACHED: "eligible, but beyond the job's outreach cap",
}


def mask_email(address: str | None) -> str:
    """`jane.doe@example.com` -> `j***@example.com`; whatever is not an address is hidden."""
    if not address:
        return ""
    local, at, domain = address.strip().rpartition("@")
    if not at or not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


# Table for people.


def render_table(report: PreviewReport, console: Console) -> None:
    console.print(_heading(report))
    console.print(_requested_table(report) if report.requested else Text(_nobody(report)))
    if report.excluded_total:
        console.print(_exclusion_table(report))
    else:
        console.print(Text("Nobody in the pool was excluded."))
    if report.explained is not None:
        console.print(_explanation_panel(report.explained))


def _heading(report: PreviewReport) -> Group:
    job, policy = report.job, report.policy
    title = Text("Preview (nothing is written): ", style="bold")
    title.append(f"{printable(job.title)} ", style="bold")
    title.append(f"[job {printable(job.job_id)}, tenant {job.tenant_id}]")
    facts = Text(
        f"at {report.at.isoformat()} · inactive {policy.min_inactive_days}-"
        f"{policy.max_inactive_days} days · cooldown {policy.cooldown_days} days · "
        f"cap {policy.max_outreach} ({report.requests_before} already requested)"
    )
    required = Text("requires: " + (printable(", ".join(job.required_credentials)) or "nothing"))
    return Group(title, facts, required)


def _nobody(report: PreviewReport) -> str:
    if report.requests_before >= report.policy.max_outreach:
        return "Nobody would be requested: the job's cap is reached."
    return "Nobody would be requested."


def _requested_table(report: PreviewReport) -> Table:
    table = Table(title=f"Would request ({len(report.requested)})", title_justify="left")
    table.add_column("Rank", justify="right")
    table.add_column("Candidate")
    table.add_column("Name")
    table.add_column("Email")
    table.add_column("Inactive days", justify="right")
    table.add_column("Preferred", justify="right")
    table.add_column("Why")
    for row in report.requested:
        table.add_row(*_requested_cells(row))
    return table


def _requested_cells(row: RequestedRow) -> list[Text]:
    decision = row.decision
    return [
        Text(str(decision.rank)),
        Text(printable(decision.candidate_id)),
        Text(printable(row.contact.name)),
        Text(printable(mask_email(row.contact.email))),
        Text(str(decision.inactive_days)),
        Text(str(decision.preferred_matched)),
        Text(printable(decision.reason.summary)),
    ]


def _exclusion_table(report: PreviewReport) -> Table:
    table = Table(title=f"Not requested ({report.excluded_total})", title_justify="left")
    table.add_column("Rule")
    table.add_column("Candidates", justify="right")
    table.add_column("Meaning")
    for rule in Exclusion:
        count = report.exclusions.get(rule, 0)
        if count:
            table.add_row(rule.value, str(count), RULE_MEANINGS[rule])
    return table


def _explanation_panel(explained: Explained) -> Panel:
    title = Text(f"Candidate {printable(explained.candidate_id)}")
    if explained.contact is not None and explained.contact.name:
        title.append(f" ({printable(explained.contact.name)})")
    outcome = explained.outcome
    if outcome is None:
        body = Text("No such candidate in this tenant's pool.")
    elif outcome.decision is not None:
        body = Text(f"Would be requested at rank {outcome.decision.rank}. ", style="bold")
        body.append(printable(outcome.decision.reason.summary))
    elif outcome.failure is not None:
        rule = outcome.failure.rule
        body = Text(f"Not requested ({rule.value}): {RULE_MEANINGS[rule]}.\n", style="bold")
        body.append(f"{printable(outcome.failure.detail)}.")
    else:  # an Outcome is always one or the other
        raise ValueError("an outcome without a decision or a failure")
    return Panel(body, title=title, title_align="left")


# JSON for scripts.


# JSON escapes the C0 controls itself; DEL and the C1 controls (a terminal may act on U+009B,
# CSI) it writes raw unless told to escape everything non-ASCII: escape just these.
_JSON_UNSAFE = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def render_json(report: PreviewReport) -> str:
    return json.dumps(preview_document(report), indent=2, ensure_ascii=False).translate(
        _JSON_UNSAFE
    )


def preview_document(report: PreviewReport) -> dict[str, Any]:
    job, policy = report.job, report.policy
    return {
        "tenant_id": job.tenant_id,
        "job": {
            "job_id": job.job_id,
            "title": job.title,
            "opened_at": job.opened_at.isoformat(),
            "closed_at": job.closed_at.isoformat() if job.closed_at else None,
            "required_credentials": list(job.required_credentials),
            "preferred_credentials": list(job.preferred_credentials),
        },
        "at": report.at.isoformat(),
        "policy": {
            "min_inactive_days": policy.min_inactive_days,
            "max_inactive_days": policy.max_inactive_days,
            "cooldown_days": policy.cooldown_days,
            "max_outreach": policy.max_outreach,
        },
        "requests_before": report.requests_before,
        "would_request": [_requested_document(row) for row in report.requested],
        "excluded": {rule.value: report.exclusions.get(rule, 0) for rule in Exclusion},
        "excluded_total": report.excluded_total,
        "explain": _explained_document(report.explained),
    }


def _requested_document(row: RequestedRow) -> dict[str, Any]:
    decision = row.decision
    return {
        "rank": decision.rank,
        "candidate_id": decision.candidate_id,
        **_contact_document(row.contact),
        "inactive_days": decision.inactive_days,
        "preferred_matched": decision.preferred_matched,
        "reason": reason_document(decision.reason),
    }


def _contact_document(contact: Contact) -> dict[str, Any]:
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email_masked": mask_email(contact.email) or None,
    }


def reason_document(reason: Reason) -> dict[str, Any]:
    """The `reason` object, shaped as in `reengage.outreach.requested`."""
    previous = reason.previous_application
    return {
        "matched_credentials": list(reason.matched_credentials),
        "matched_preferred_credentials": list(reason.matched_preferred_credentials),
        "last_activity_at": reason.last_activity_at.isoformat(),
        "inactive_days": reason.inactive_days,
        "previous_application": None
        if previous is None
        else {
            "job_id": previous.job_id,
            "job_title": previous.job_title,
            "applied_at": previous.applied_at.isoformat(),
        },
        "summary": reason.summary,
    }


def _explained_document(explained: Explained | None) -> dict[str, Any] | None:
    if explained is None:
        return None
    document: dict[str, Any] = {"candidate_id": explained.candidate_id}
    if explained.contact is not None:
        document.update(_contact_document(explained.contact))
    outcome = explained.outcome
    if outcome is None:
        document.update(outcome="not_found", rule=None, detail=None, rank=None)
    elif outcome.decision is not None:
        document.update(
            outcome="requested",
            rule=None,
            detail=outcome.decision.reason.summary,
            rank=outcome.decision.rank,
        )
    elif outcome.failure is not None:
        document.update(
            outcome="excluded",
            rule=outcome.failure.rule.value,
            detail=outcome.failure.detail,
            rank=None,
        )
    return document
