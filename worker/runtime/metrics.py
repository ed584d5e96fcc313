"""Prometheus metrics. The names and labels are public interface (OPERATIONS.md)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from worker.contracts.catalogue import ALL_TYPES

# The exposition holds the names OPERATIONS.md lists, not also a `*_created` gauge for each.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client

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
    "Time to decide and write one job's outreach, or one updated candidate's against the "
    "open jobs in its reverse-match window (an update with none is not a match).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge("reengage_outbox_pending", "Outbox rows not yet published.")
OUTBOX_OLDEST_SECONDS = Gauge(
    "reengage_outbox_oldest_seconds", "Age of the oldest unpublished outbox row."
)
MATCH_WAITS = Counter(
    "reengage_match_waits_total",
    "Jobs whose match waited for other workers' partitions, by how the wait ended.",
    ["outcome"],
)
CONSUMER_LAG = Gauge(
    "reengage_consumer_lag", "Records behind the partition's end.", ["topic", "partition"]
)


# What each command exposes on /metrics. One registry holds them all, and a series a process
# never updates would read as a true zero: a mailer's `reengage_outbox_pending` 0 beside a
# worker's 5,000 in a dashboard's sum or an alert's `== 0`. (Process and Python collectors are
# exposed by every command.)
CONSUMER_METRICS = (EVENTS, BATCH_SECONDS, CONSUMER_LAG)
RELAY_METRICS = (OUTBOX_PENDING, OUTBOX_OLDEST_SECONDS)
WORKER_METRICS = (
    *CONSUMER_METRICS,
    OUTREACH_REQUESTED,
    OUTREACH_CANCELLED,
    MATCH_SECONDS,
    MATCH_WAITS,
)
MAILER_METRICS = (*CONSUMER_METRICS, MAIL)


def show_at_zero(counter: Counter, values: Iterable[str]) -> None:
    """Serve the counter's series for each known label value from start-up. A labelled
    series is otherwise absent until its first increment: a dashboard shows no data, and an
    alert on `increase()` misses that first increment. (Only what a command exposes is
    served, so presetting another command's series is harmless.)"""
    for value in values:
        counter.labels(value)


class Outcome:
    """Values of the `outcome` label of reengage_events_total."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead_lettered"


# A skipped event's `type` comes from the wire. Types of the contract are labels as they are;
# another one (a type added later) is kept while it looks like a type and few have been seen,
# else it is counted as "other": a publisher's garbage (an address, a random string per
# message) must neither reach /metrics in clear nor grow a series per message. The
# contract's own families (`ats.`, `reengage.`) and three dotted parts at least, as every type
# of the contract has: `firstname.lastname` or `jane.marie.doe`, shapes of an address's local
# part or a name, are not types.
OTHER_TYPE = "other"
MAX_OTHER_TYPE_LABELS = 20
_FAMILIES = "|".join(sorted({re.escape(t.split(".", 1)[0]) for t in ALL_TYPES}))
_TYPE_SHAPE = re.compile(rf"(?:{_FAMILIES})(?:\.[a-z0-9_-]+){{2,}}")
_other_types: set[str] = set()
_other_types_lock = threading.Lock()


def type_label(event_type: str) -> str:
    """The `type` label of reengage_events_total for a type read from a message."""
    if not event_type or event_type in ALL_TYPES:
        return event_type
    with _other_types_lock:
        if event_type in _other_types:
            return event_type
        if (
            len(event_type) <= 64
            and _TYPE_SHAPE.fullmatch(event_type)
            and len(_other_types) < MAX_OTHER_TYPE_LABELS
        ):
            _other_types.add(event_type)
            return event_type
    return OTHER_TYPE
