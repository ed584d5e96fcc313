from worker.contracts.catalogue import types_on
from worker.dlq.replay import replay_group
from worker.dlq.topics import types_by_topic
from worker.settings import Settings


def test_each_configured_name_carries_its_default_topics_types() -> None:
    carried = types_by_topic(Settings(_env_file=None, topic_candidates="prod.people"))
    assert carried["prod.people"] == types_on("ats.candidates")
    assert carried["ats.jobs"] == types_on("ats.jobs")
    assert "ats.candidates" not in carried


def test_one_topic_configured_twice_carries_both_sets_of_types() -> None:
    carried = types_by_topic(Settings(_env_file=None, topic_jobs="ats", topic_candidates="ats"))
    assert carried["ats"] == types_on("ats.jobs") | types_on("ats.candidates")


def test_the_replay_group_is_its_own_never_the_workers() -> None:
    assert replay_group(Settings(_env_file=None)) == "reengage-dlq-replay"
    named = Settings(_env_file=None, consumer_group="acme-worker")
    assert replay_group(named) == "acme-worker-dlq-replay"
