import pytest
from kafka.errors import KafkaConnectionError
from sqlalchemy.exc import OperationalError

from worker.errors import FatalError, TransientError
from worker.runtime.retry import RetryBudgetSpentError, is_transient, retry_transient


class _SqlstateError(Exception):
    """What psycopg's errors carry: the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_transient_failures_are_retried_with_growing_waits_spent_in_idle() -> None:
    waits: list[float] = []
    flaky = Flaky([TransientError("db down")] * 3)
    assert retry_transient(flaky, budget_s=60, idle=waits.append, initial_s=0.1) == "done"
    assert flaky.calls == 4
    assert len(waits) == 3
    assert waits[2] >= 0.4  # exponential: 0.1, 0.2, 0.4 (+ jitter)


def test_other_errors_are_not_retried() -> None:
    flaky = Flaky([ValueError("bug")])
    with pytest.raises(ValueError, match="bug"):
        retry_transient(flaky, budget_s=60, idle=lambda _s: None)
    assert flaky.calls == 1


def test_spent_budget_is_fatal_and_chains_the_last_transient_error() -> None:
    flaky = Flaky([TransientError("down")] * 1000)
    with pytest.raises(RetryBudgetSpentError) as caught:
        retry_transient(flaky, budget_s=0.0, idle=lambda _s: None, what="apply batch")
    assert isinstance(caught.value, FatalError)
    assert isinstance(caught.value.__cause__, TransientError)
    assert "apply batch" in str(caught.value)
    assert flaky.calls == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("SELECT 1", {}, Exception("connection refused")), True),
        (OperationalError("INSERT", {}, _SqlstateError("53300")), True),  # too many connections
        (OperationalError("INSERT", {}, _SqlstateError("54000")), False),  # index row too big
        (KafkaConnectionError(), True),
        (ConnectionResetError(), True),
        (FatalError("stop"), False),
        (KeyError("x"), False),
    ],
)
def test_classification(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
