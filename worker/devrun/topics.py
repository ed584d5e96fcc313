"""Creating the four topics up front, so the worker and the mailer find them at once (a
consumer subscribed to a missing topic may not notice its creation for minutes)."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from worker.kafka.config import connection_options
from worker.settings import Settings

PARTITIONS = 3


def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics (3 partitions, replication 1: a laptop broker); returns the
    names created."""
    names = [
        settings.topic_jobs,
        settings.topic_candidates,
        settings.topic_outreach,
        settings.topic_status,
    ]
    admin = KafkaAdminClient(**{**connection_options(settings), "client_id": "reengage-devrun"})
    try:
        missing = [n for n in names if n not in set(admin.list_topics())]
        created: list[str] = []
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, PARTITIONS, 1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # auto-created meanwhile by a producer
        return created
    finally:
        admin.close()
