"""Dead letters per topic, read from this process's metrics registry.

The worker already counts every record it dead-letters in `reengage_events_total` (outcome
`dead_lettered`), so the page needs no table and no broker round trip. The count is this
process's since it started; Prometheus, summing the counter over every worker, has the fleet's.
"""

from __future__ import annotations

from collections import Counter

from prometheus_client import REGISTRY, CollectorRegistry

from worker.runtime.metrics import Outcome

_SAMPLE = "reengage_events_total"


def dead_letters_by_topic(registry: CollectorRegistry = REGISTRY) -> dict[str, int]:
    """{original topic: dead letters}, topics with none left out, sorted by topic."""
    counts: Counter[str] = Counter()
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == _SAMPLE and sample.labels.get("outcome") == Outcome.DEAD_LETTERED:
                counts[sample.labels.get("topic", "")] += int(sample.value)
    return {topic: counts[topic] for topic in sorted(counts) if counts[topic]}
