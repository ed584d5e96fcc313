"""The demo's trades: credentials and job titles that belong together, so that jobs find
candidates. People (names, places, addresses) come from Faker; these lists are the only
hand-written part, because Faker has no notion of which skills a job asks for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trade:
    name: str
    titles: tuple[str, ...]
    # Most people of the trade hold each of these; jobs require one or two of them.
    core: tuple[str, ...]
    # Fewer hold these; jobs prefer them (ranking).
    extra: tuple[str, ...]


TRADES: dict[str, Trade] = {
    trade.name: trade
    for trade in (
        Trade(
            "data",
            ("Data Analyst", "Senior Data Analyst", "Analytics Engineer"),
            core=("SQL", "Tableau", "Python"),
            extra=("dbt", "Power BI", "Excel", "Statistics"),
        ),
        Trade(
            "backend",
            ("Backend Engineer", "Platform Engineer", "Senior Python Developer"),
            core=("Python", "PostgreSQL", "Kafka"),
            extra=("Docker", "Kubernetes", "Go", "AWS"),
        ),
        Trade(
            "frontend",
            ("Frontend Engineer", "UI Developer", "Senior React Developer"),
            core=("TypeScript", "React", "CSS"),
            extra=("Accessibility", "Next.js", "Figma", "Testing Library"),
        ),
        Trade(
            "nursing",
            ("Registered Nurse", "ICU Nurse", "Paediatric Nurse"),
            core=("RN Licence", "BLS", "ACLS"),
            extra=("Paediatrics", "Intensive Care", "Epic EHR", "Triage"),
        ),
        Trade(
            "logistics",
            ("Warehouse Lead", "Forklift Operator", "Inventory Planner"),
            core=("Forklift Certificate", "Inventory Management", "SAP"),
            extra=("Lean", "HGV Licence", "First Aid", "Excel"),
        ),
        Trade(
            "finance",
            ("Financial Accountant", "Controller", "Audit Associate"),
            core=("IFRS", "Excel", "SAP"),
            extra=("ACCA", "Consolidation", "Power BI", "Audit"),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class DemoTenant:
    """A tenant of the demo: who its people are (Faker locales) and which trades it hires."""

    name: str
    locales: tuple[str, ...]
    trades: tuple[str, ...]
    # Share of the demo's candidates in this tenant.
    share: float


TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant("acme", ("en_US", "en_GB"), ("data", "backend", "frontend"), share=0.6),
    DemoTenant("globex", ("de_DE", "fr_FR", "es_ES"), ("nursing", "logistics", "finance"), 0.4),
)
