"""Which event types each configured topic carries, under the names this deployment uses."""

from __future__ import annotations

from collections.abc import Mapping

from worker.contracts.catalogue import (
    TOPIC_CANDIDATES,
    TOPIC_JOBS,
    TOPIC_OUTREACH,
    TOPIC_STATUS,
    types_on,
)
from worker.settings import Settings


def types_by_topic(settings: Settings) -> Mapping[str, frozenset[str]]:
    """Configured topic name -> the contract's types on it. Two settings naming one topic
    (a deployment that multiplexes) give that topic the types of both."""
    configured = (
        (settings.topic_jobs, TOPIC_JOBS),
        (settings.topic_candidates, TOPIC_CANDIDATES),
        (settings.topic_outreach, TOPIC_OUTREACH),
        (settings.topic_status, TOPIC_STATUS),
    )
    carried: dict[str, frozenset[str]] = {}
    for name, default in configured:
        carried[name] = carried.get(name, frozenset()) | types_on(default)
    return carried
