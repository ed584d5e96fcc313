from worker.contracts.catalogue import MAILER_TYPES, WORKER_TYPES
from worker.dlq.replay import replay_group
from worker.dlq.topics import types_by_topic
from worker.settings import Settings


def test_each_configured_name_is_checked_as_its_consumer_decodes_it() -> None:
    handled = types_by_topic(Settings(_env_file=None, topic_candidates="prod.people"))
    assert handled["prod.people"] == WORKER_TYPES
    assert handled["ats.jobs"] == WORKER_TYPES
    assert handled["reengage.outreach.status"] == WORKER_TYPES
    assert handled["reengage.outreach"] == MAILER_TYPES
    assert "ats.candidates" not in handled


def test_one_topic_read_by_both_consumers_is_checked_with_both_sets_of_types() -> None:
    handled = types_by_topic(Settings(_env_file=None, topic_outreach="x", topic_status="x"))
    assert handled["x"] == WORKER_TYPES | MAILER_TYPES


def test_the_replay_group_is_its_own_never_the_workers() -> None:
    assert replay_group(Settings(_env_file=None)) == "reengage-dlq-replay"
    named = Settings(_env_file=None, consumer_group="acme-worker")
    assert replay_group(named) == "acme-worker-dlq-replay"
