"""Which event types a dead letter is checked against, by the topic it came from: the types
the consumer of that topic handles, under the names this deployment uses."""

from __future__ import annotations

from collections.abc import Mapping

from worker.contracts.catalogue import MAILER_TYPES, WORKER_TYPES
from worker.settings import Settings


def types_by_topic(settings: Settings) -> Mapping[str, frozenset[str]]:
    """Configured topic name -> the types its consumer decodes there. The worker decodes its
    three topics alike (an `ats.candidate.updated` that arrives on `ats.jobs` is applied, and
    dead-lettered when invalid), so a replay must judge its dead letters the same way, or a
    letter the worker refuses would be replayed again and again. Two settings naming one
    topic (a deployment that multiplexes) give that topic the types of both consumers."""
    configured = (
        (settings.topic_jobs, WORKER_TYPES),
        (settings.topic_candidates, WORKER_TYPES),
        (settings.topic_status, WORKER_TYPES),
        (settings.topic_outreach, MAILER_TYPES),
    )
    handled: dict[str, frozenset[str]] = {}
    for name, types in configured:
        handled[name] = handled.get(name, frozenset()) | types
    return handled
