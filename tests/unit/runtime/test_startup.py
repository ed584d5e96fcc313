"""The start-up wait: retried while the dependency is transiently away, a configuration error
naming the setting once the budget is spent, and cut short by a shutdown request, also in the
middle of an attempt that blocks."""

from __future__ import annotations

import threading

import pytest

from worker.runtime.shutdown import Interrupted, Shutdown
from worker.runtime.startup import connect_or_fail
from worker.settings import ConfigurationError

VARIABLE = "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"
# Longer than any test run: a wait that ignored the shutdown flag would hit the suite's
# per-test timeout instead of passing.
FOREVER_S = 3600.0


def test_the_client_is_returned_from_the_attempt() -> None:
    client = connect_or_fail(
        lambda: "client", variable=VARIABLE, what="x", timeout_s=1, shutdown=Shutdown()
    )
    assert client == "client"


def test_a_spent_budget_is_a_configuration_error_naming_the_setting() -> None:
    def refused() -> str:
        raise ConnectionRefusedError("secret-host:9092")

    with pytest.raises(ConfigurationError) as caught:
        connect_or_fail(
            refused, variable=VARIABLE, what="cannot reach Kafka", timeout_s=0, shutdown=None
        )
    assert caught.value.variable == VARIABLE
    assert "cannot reach Kafka" in str(caught.value)
    assert "secret-host" not in str(caught.value)


def test_an_error_that_is_not_transient_is_raised_as_is() -> None:
    def broken() -> str:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        connect_or_fail(
            broken, variable=VARIABLE, what="x", timeout_s=FOREVER_S, shutdown=Shutdown()
        )


def test_a_shutdown_requested_before_start_up_connects_to_nothing() -> None:
    shutdown = Shutdown()
    shutdown.request()
    calls: list[int] = []
    with pytest.raises(Interrupted):
        connect_or_fail(
            lambda: calls.append(1), variable=VARIABLE, what="x", timeout_s=1, shutdown=shutdown
        )
    assert calls == []


def test_a_shutdown_during_the_wait_between_attempts_ends_it() -> None:
    shutdown = Shutdown()
    calls: list[int] = []

    def refused_then_signalled() -> str:
        calls.append(1)
        shutdown.request()  # as the signal handler would, while the next attempt is awaited
        raise ConnectionRefusedError

    with pytest.raises(Interrupted):
        connect_or_fail(
            refused_then_signalled,
            variable=VARIABLE,
            what="x",
            timeout_s=FOREVER_S,
            shutdown=shutdown,
        )
    assert calls == [1]


def test_a_shutdown_during_a_blocked_attempt_does_not_wait_for_it() -> None:
    shutdown = Shutdown()
    release = threading.Event()

    def blocked() -> str:
        shutdown.request()
        release.wait()  # a bootstrap that never answers
        return "too late"

    try:
        with pytest.raises(Interrupted):
            connect_or_fail(
                blocked, variable=VARIABLE, what="x", timeout_s=FOREVER_S, shutdown=shutdown
            )
    finally:
        release.set()


@pytest.mark.parametrize("shutdown", [Shutdown(), None], ids=["with handlers", "without"])
def test_the_budget_ends_the_wait_in_the_middle_of_a_blocked_attempt(
    shutdown: Shutdown | None,
) -> None:
    release = threading.Event()
    attempts: list[int] = []

    def blocked() -> str:
        attempts.append(1)
        release.wait()  # a bootstrap to a black-holed address: no answer, no error
        return "too late"

    try:
        with pytest.raises(ConfigurationError) as caught:
            connect_or_fail(
                blocked,
                variable=VARIABLE,
                what="cannot reach Kafka",
                timeout_s=0.3,
                shutdown=shutdown,
            )
        assert not release.is_set()  # given up on, not waited for
        assert attempts == [1]
        assert str(caught.value) == f"{VARIABLE}: cannot reach Kafka: no answer within 0.3 s"
    finally:
        release.set()
