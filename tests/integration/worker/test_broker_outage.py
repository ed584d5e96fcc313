"""SIGTERM while the broker hangs: the process still exits 0 within 10 s (OPERATIONS.md), and
what it could not publish goes out with the next run.

The outage is real: the session's broker process is stopped (SIGSTOP) for the length of the
shutdown and resumed after, so the relay's sends are waiting on a broker that accepts the
connection and never answers, the way a hung host behaves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.kafka import FreezeBroker
from tests.integration.worker.harness import (
    Topics,
    base_env,
    count_rows,
    holding_at,
    read_until,
    running,
    wait_for,
)
from worker.outbox.writer import OutboxMessage, append
from worker.store.engine import create_store_engine

UNPUBLISHED = "outbox WHERE published_at IS NULL"


def _add_outbox_rows(url: str, topic: str, keys: range) -> None:
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            messages = [
                OutboxMessage(topic, f"acme:c-{n}", json.dumps({"id": f"o-{n}"})) for n in keys
            ]
            append(connection, messages, datetime.now(UTC))
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", ["worker", "relay"])
def test_sigterm_while_the_broker_hangs_exits_0_within_10_s_and_loses_nothing(
    command: str,
    kafka_bootstrap: str,
    freeze_broker: FreezeBroker,
    migrated: str,
    topics: Topics,
    group_id: str,
    tmp_path: Path,
) -> None:
    env = base_env(kafka_bootstrap, migrated, topics, group_id)
    # The second batch is held just before it is sent, until the signal: its sends then go
    # to the hung broker whatever the machine's speed.
    holding = holding_at(env, "relay-before-send", 2)
    with running([command], holding, tmp_path / "first.log") as process:
        # One row out first: the relay leads, and its producer knows the topic.
        _add_outbox_rows(migrated, topics.outreach, range(1))
        wait_for(lambda: count_rows(migrated, UNPUBLISHED) == 0, "the first row published")
        with freeze_broker():
            _add_outbox_rows(migrated, topics.outreach, range(1, 21))
            process.wait_for_hold("relay-before-send")
            assert count_rows(migrated, UNPUBLISHED) == 20
            code, elapsed = process.timed_sigterm()
        output = process.output()
        assert code == 0, output
        assert elapsed < 10, f"exited {elapsed:.1f} s after SIGTERM\n{output}"
        # It did wait on the hung broker, and let those sends go.
        assert "producer closed with sends the broker has not acknowledged" in output, output

    with running(["relay"], env, tmp_path / "second.log") as relay:
        wait_for(lambda: count_rows(migrated, UNPUBLISHED) == 0, "the rest published")
        assert relay.stop() == 0, relay.output()
    published = read_until(kafka_bootstrap, topics.outreach, lambda r: len(r) >= 21)
    assert {json.loads(r.value)["id"] for r in published} == {f"o-{n}" for n in range(21)}
