"""The status page as one HTML document: inline CSS and SVG, no JavaScript, no assets.

Every value from the database goes through `escape` (a job title is ATS input). Numbers are
drawn as SVG text next to their bars, so what a person reads is what the tests read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape

from worker.logs import mask_emails
from worker.outbox.gauges import OutboxBacklog
from worker.rules.eligibility import Exclusion
from worker.status_page.funnel import Funnel
from worker.status_page.report import (
    OUTREACH_STATUSES,
    JobStatus,
    StatusReport,
    TenantStatus,
)
from worker.text import printable

REFRESH_SECONDS = 10

STAGE_LABELS: dict[Exclusion, str] = {
    Exclusion.DO_NOT_CONTACT: "do not contact",
    Exclusion.EMAIL_UNUSABLE: "email unusable",
    Exclusion.CONSENT_EXPIRED: "consent expired",
    Exclusion.NO_ACTIVITY: "no activity recorded",
    Exclusion.NOT_DORMANT_ENOUGH: "active too recently",
    Exclusion.INACTIVE_TOO_LONG: "inactive too long",
    Exclusion.MISSING_CREDENTIALS: "missing credentials",
    Exclusion.COOLDOWN: "cooldown (other job)",
    Exclusion.CAP_REACHED: "beyond the job's cap",
}

STATUS_COLOURS: dict[str, str] = {
    "requested": "#5b7cfa",
    "sent": "#2e9d5b",
    "failed": "#d64545",
    "cancelled": "#9aa0a6",
}

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f5f6f8;color:#1d2430}
header{background:#1d2430;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:20px}header p{margin:2px 0 0;color:#b9c0cc}
main{padding:18px 28px;max-width:1180px}
.cards{display:flex;gap:16px;flex-wrap:wrap}
.card,.job{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 16px}
.card{flex:1 1 260px}.card.wide{flex:2 1 470px}.card h2{margin:0 0 6px;font-size:15px}
.big{font-size:26px;font-weight:600}.muted{color:#677082}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
section.tenant h2{margin:22px 0 8px;font-size:18px}
.jobs{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
.job h3{margin:0;font-size:16px}.job p{margin:2px 0 8px}
.badge{font-size:11px;border-radius:9px;padding:1px 8px;margin-left:6px;vertical-align:2px}
.open{background:#e3f4ea;color:#1e6e3f}.closed{background:#eceef1;color:#4d5566}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#1d2430}
svg text.excluded{fill:#b23b3b}svg text.dim{fill:#677082}
"""

# Funnel geometry (px).
_LABEL_W = 170
_BAR_W = 250
_ROW_H = 21
_FUNNEL_W = _LABEL_W + _BAR_W + 110


def render(report: StatusReport) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>reengage status</title>",
        f"<style>{_STYLE}</style></head><body>",
        _header(report),
        "<main>",
        _cards(report),
        *(_tenant(t) for t in report.tenants),
        _hidden_tenants(report.tenants_hidden),
        _no_jobs(report) if not report.jobs_total else "",
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _header(report: StatusReport) -> str:
    shown = (
        f" · showing the {report.jobs_shown} most recently opened of {report.jobs_total} jobs"
        if report.jobs_shown < report.jobs_total
        else ""
    )
    return (
        "<header><h1>reengage status</h1>"
        f"<p>{_time(report.generated_at)} · database {_html(report.database)}{shown}"
        f" · refreshes every {REFRESH_SECONDS} s</p></header>"
    )


def _cards(report: StatusReport) -> str:
    return (
        '<section class="cards">'
        + _outreach_card(report.outreach_totals)
        + _outbox_card(report.outbox)
        + _dead_letter_card(report.dead_letters)
        + "</section>"
    )


def _outreach_card(totals: Mapping[str, int]) -> str:
    total = sum(totals.values())
    return (
        '<div class="card wide" id="outreach-totals"><h2>Outreach, every job</h2>'
        f'<div class="big">{total}</div>{_status_bar(totals, width=440)}</div>'
    )


def _outbox_card(outbox: OutboxBacklog) -> str:
    age = (
        "nothing waiting"
        if outbox.oldest_age_seconds is None
        else f"oldest waiting {_duration(outbox.oldest_age_seconds)}"
    )
    return (
        '<div class="card" id="outbox"><h2>Outbox backlog</h2>'
        f'<div class="big" data-pending="{outbox.pending}">{outbox.pending}</div>'
        f'<div class="muted">events not yet published · {age}</div></div>'
    )


def _dead_letter_card(dead_letters: Mapping[str, int]) -> str:
    if dead_letters:
        rows = "".join(
            f'<tr data-topic="{_html(topic)}"><td>{_html(topic)}.dlq</td>'
            f'<td class="n">{count}</td></tr>'
            for topic, count in dead_letters.items()
        )
        body = f"<table>{rows}</table>"
    else:
        body = '<div class="muted">none</div>'
    return (
        '<div class="card" id="dead-letters"><h2>Dead letters</h2>'
        f'<div class="big">{sum(dead_letters.values())}</div>{body}'
        '<div class="muted">produced by this worker since it started</div></div>'
    )


def _tenant(tenant: TenantStatus) -> str:
    jobs = "".join(_job(j) for j in tenant.jobs) + _jobs_not_shown(tenant)
    return (
        f'<section class="tenant" data-tenant="{_html(tenant.tenant_id)}">'
        f"<h2>Tenant {_html(tenant.tenant_id)} "
        f'<span class="muted">· {tenant.pool} candidates in the pool</span></h2>'
        f'<div class="jobs">{jobs}</div></section>'
    )


def _job(status: JobStatus) -> str:
    job, policy = status.job, status.funnel.policy
    state = (
        '<span class="badge closed">closed</span>'
        if status.closed
        else '<span class="badge open">open</span>'
    )
    required = ", ".join(job.required_credentials) or "nothing"
    return (
        f'<article class="job" data-tenant="{_html(job.tenant_id)}" '
        f'data-job="{_html(job.job_id)}">'
        f"<h3>{_html(job.title)}{state}</h3>"
        f'<p class="muted">job {_html(job.job_id)} · opened {_time(job.opened_at)} · '
        f"requires {_html(required)} · inactive {policy.min_inactive_days}-"
        f"{policy.max_inactive_days} days · cap {policy.max_outreach}</p>"
        f"{_funnel_svg(status.funnel, status.requested_total)}"
        f'<p class="muted" style="margin-top:8px">Outreach by status</p>'
        f"{_status_bar(status.outreach, width=_FUNNEL_W)}"
        "</article>"
    )


def _funnel_svg(funnel: Funnel, requested: int) -> str:
    steps = funnel.remaining()
    rows = [_pool_row(funnel.pool)]
    rows += [
        _stage_row(i + 1, stage, excluded, left, funnel.pool)
        for i, (stage, excluded, left) in enumerate(steps)
    ]
    rows.append(_requested_row(len(steps) + 1, requested, funnel.pool))
    height = (len(steps) + 2) * _ROW_H + 4
    return (
        f'<svg class="funnel" width="{_FUNNEL_W}" height="{height}" '
        f'viewBox="0 0 {_FUNNEL_W} {height}" role="img" '
        f'aria-label="funnel from pool to requested">{"".join(rows)}</svg>'
    )


def _width(count: int, pool: int) -> float:
    return 0.0 if pool <= 0 else round(_BAR_W * count / pool, 1)


def _pool_row(pool: int) -> str:
    return (
        f'<g class="stage" data-stage="pool" data-remaining="{pool}">'
        f'<text x="0" y="15">pool</text>'
        f'<rect x="{_LABEL_W}" y="3" width="{_BAR_W if pool else 0}" height="15" fill="#5b7cfa"/>'
        f'<text class="remaining" x="{_LABEL_W + _BAR_W + 8}" y="15">{pool}</text></g>'
    )


def _stage_row(index: int, stage: Exclusion, excluded: int, left: int, pool: int) -> str:
    y = index * _ROW_H
    kept = _width(left, pool)
    cut = _width(excluded, pool)
    return (
        f'<g class="stage" data-stage="{stage.value}" data-excluded="{excluded}" '
        f'data-remaining="{left}" transform="translate(0,{y})">'
        f'<text x="0" y="15">{_html(STAGE_LABELS[stage])}</text>'
        f'<rect x="{_LABEL_W}" y="3" width="{kept}" height="15" fill="#5b7cfa"/>'
        f'<rect x="{_LABEL_W + kept}" y="3" width="{cut}" height="15" fill="#f3b4b4"/>'
        f'<text class="{"excluded" if excluded else "dim"}" x="{_LABEL_W + _BAR_W + 8}" '
        f'y="15">{_minus(excluded)}</text>'
        f'<text class="remaining dim" x="{_LABEL_W + _BAR_W + 58}" y="15">{left}</text></g>'
    )


def _requested_row(index: int, requested: int, pool: int) -> str:
    y = index * _ROW_H
    return (
        f'<g class="stage" data-stage="requested" data-remaining="{requested}" '
        f'transform="translate(0,{y})">'
        f'<text x="0" y="15" font-weight="600">requested</text>'
        f'<rect x="{_LABEL_W}" y="3" width="{_width(requested, pool)}" height="15" '
        f'fill="#2e9d5b"/>'
        f'<text class="remaining" x="{_LABEL_W + _BAR_W + 8}" y="15" font-weight="600">'
        f"{requested}</text></g>"
    )


def _minus(count: int) -> str:
    return f"−{count}" if count else "0"


def _status_bar(counts: Mapping[str, int], *, width: int) -> str:
    """A stacked bar of outreach by status, with a legend carrying the numbers."""
    total = sum(counts.values())
    x = 0.0
    segments: list[str] = []
    for status in OUTREACH_STATUSES:
        n = counts.get(status, 0)
        w = 0.0 if total == 0 else width * n / total
        if w:
            segments.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="14" '
                f'fill="{STATUS_COLOURS[status]}"/>'
            )
        x += w
    if not segments:
        segments.append(f'<rect x="0" y="0" width="{width}" height="14" fill="#eceef1"/>')
    spacing = width // len(OUTREACH_STATUSES)
    legend = "".join(
        _legend_item(i * spacing, s, counts.get(s, 0)) for i, s in enumerate(OUTREACH_STATUSES)
    )
    return (
        f'<svg class="statuses" width="{width}" height="38" viewBox="0 0 {width} 38" role="img" '
        f'aria-label="outreach by status">{"".join(segments)}{legend}</svg>'
    )


def _legend_item(x: int, status: str, count: int) -> str:
    return (
        f'<g class="status" data-status="{status}" data-count="{count}" '
        f'transform="translate({x},20)">'
        f'<rect x="0" y="3" width="10" height="10" fill="{STATUS_COLOURS[status]}"/>'
        f'<text x="14" y="12">{status} <tspan class="count">{count}</tspan></text></g>'
    )


def _jobs_not_shown(tenant: TenantStatus) -> str:
    hidden = tenant.jobs_opened - len(tenant.jobs)
    if hidden <= 0:
        return "" if tenant.jobs else '<p class="muted">No jobs opened yet.</p>'

    more = "more " if tenant.jobs else ""
    return (
        f'<p class="muted" data-jobs-hidden="{hidden}">{hidden} {more}opened '
        f"job{'s' if hidden != 1 else ''} not shown: the page shows the most recently "
        "opened jobs across every tenant.</p>"
    )


def _hidden_tenants(count: int) -> str:
    if not count:
        return ""
    return (
        f'<p class="muted" data-tenants-hidden="{count}">{count} more '
        f"tenant{'s' if count != 1 else ''} not shown.</p>"
    )


def _no_jobs(report: StatusReport) -> str:
    hint = "Run <code>make demo</code> (or <code>reengage demo</code>) to publish a data set."
    if report.tenants:
        return f'<p class="muted">No job has been opened yet. {hint}</p>'
    return f'<p class="muted">Nothing stored yet. {hint}</p>'


def _html(value: str) -> str:
    """ATS text for the page: escaped, control characters (not allowed in HTML) shown as
    U+FFFD, and addresses masked as in the logs: the page holds no personal data, and an ATS
    may well use an address as a candidate's or a job's id."""
    return escape(printable(mask_emails(value)))


def _time(moment: datetime) -> str:
    return _html(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
