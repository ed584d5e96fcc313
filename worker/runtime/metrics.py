"""Prometheus metrics. The names and labels are public interface (OPERATIONS.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "reengage_events_total",
    "Consumed events by topic, CloudEvents type and outcome.",
    ["topic", "type", "outcome"],
)
OUTREACH_REQUESTED = Counter(
    "reengage_outreach_requested_total", "Outreach requests decided and written to the outbox."
)
OUTREACH_CANCELLED = Counter(
    "reengage_outreach_cancelled_total", "Outreach cancellations by reason.", ["reason"]
)
MAIL = Counter("reengage_mail_total", "Mailer outcomes.", ["outcome"])
BATCH_SECONDS = Histogram(
    "reengage_batch_seconds",
    "Time to apply one consumed batch, from decode to offset commit.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MATCH_SECONDS = Histogram(
    "reengage_match_seconds",
    "Time to decide and write one job's (or one candidate's) outreach.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge("reengage_outbox_pending", "Outbox rows not yet published.")
OUTBOX_OLDEST_SECONDS = Gauge(
    "reengage_outbox_oldest_seconds", "Age of the oldest unpublished outbox row."
)
CONSUMER_LAG = Gauge(
    "reengage_consumer_lag", "Records behind the partition's end.", ["topic", "partition"]
)


class Outcome:
    """Values of the `outcome` label of reengage_events_total."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead_lettered"
