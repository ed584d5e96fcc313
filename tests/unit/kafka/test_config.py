import pytest

from worker.kafka.config import consumer_options
from worker.settings import Settings


@pytest.mark.parametrize(
    ("session_ms", "heartbeat_ms"), [(45_000, 3_000), (9_000, 3_000), (6_000, 2_000)]
)
def test_the_heartbeat_fits_a_third_of_the_session(session_ms: int, heartbeat_ms: int) -> None:
    """Kafka's rule of thumb: with a 6 s session and 3 s heartbeats, one late heartbeat on a
    loaded machine costs the membership."""
    settings = Settings(_env_file=None, kafka_session_timeout_ms=session_ms)
    options = consumer_options(settings, "g")
    assert options["session_timeout_ms"] == session_ms
    assert options["heartbeat_interval_ms"] == heartbeat_ms


def test_consumers_ask_not_to_create_topics() -> None:
    """A subscription to a missing topic must not bring it back with the broker's default
    partition count (tests/integration/test_topic_creation.py checks the broker's side)."""
    options = consumer_options(Settings(_env_file=None), "g")
    assert options["allow_auto_create_topics"] is False
