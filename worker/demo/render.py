"""The demo summary for people: one rich table per tenant, a column per job, a row per
funnel stage, then outreach by status and the emails caught."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from worker.demo.summary import DemoSummary, JobSummary
from worker.status_page.funnel import STAGES
from worker.status_page.render import STAGE_LABELS


def render_summary(summary: DemoSummary, console: Console) -> None:
    for tenant in sorted({j.tenant_id for j in summary.jobs}):
        jobs = [j for j in summary.jobs if j.tenant_id == tenant]
        console.print(_tenant_table(tenant, summary.pools.get(tenant, 0), jobs))
    if summary.example_email is not None:
        line = Text("One caught email: ", style="bold")
        line.append(str(summary.example_email))
        console.print(line)


def _tenant_table(tenant: str, pool: int, jobs: list[JobSummary]) -> Table:
    table = Table(title=Text(f"{tenant} · {pool} candidates"), title_justify="left")
    table.add_column("")
    for job in jobs:
        table.add_column(Text(f"{job.job_id}\n{job.title}"), justify="right")
    table.add_row("pool", *(str(j.funnel.pool) for j in jobs))
    for stage in STAGES:
        table.add_row(
            Text(STAGE_LABELS[stage], style="dim"),
            *(_excluded(j.funnel.excluded[stage]) for j in jobs),
        )
    table.add_row(Text("requested", style="bold"), *(Text(str(j.requested), "bold") for j in jobs))
    for status in ("sent", "failed", "cancelled"):
        if any(j.outreach.get(status, 0) for j in jobs):
            table.add_row(f"  {status}", *(str(j.outreach.get(status, 0)) for j in jobs))
    table.add_row("emails caught", *("–" if j.caught is None else str(j.caught) for j in jobs))
    return table


def _excluded(count: int) -> Text:
    return Text(f"−{count}", style="red") if count else Text("0", style="dim")
