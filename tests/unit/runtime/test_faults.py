import pytest

from worker.runtime import faults


@pytest.fixture(autouse=True)
def _fresh_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_seen", {})


def test_a_hold_waits_at_the_nth_visit_until_released(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REENGAGE_TEST_HOLD_AT", "here:2")
    checks: list[int] = []

    def released() -> bool:
        checks.append(1)
        return len(checks) >= 3

    faults.hold_point("here", until=released)
    assert checks == []  # the first visit passes
    faults.hold_point("here", until=released)
    assert len(checks) == 3  # the second waits until the condition holds
    assert "test hold: at here" in capsys.readouterr().err
    faults.hold_point("here", until=released)
    assert len(checks) == 3  # and only that one


def test_a_hold_elsewhere_or_unset_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    never = lambda: False  # noqa: E731 - a hold that would wait for good
    monkeypatch.setenv("REENGAGE_TEST_HOLD_AT", "there")
    faults.hold_point("here", until=never)
    monkeypatch.delenv("REENGAGE_TEST_HOLD_AT")
    faults.hold_point("there", until=never)


def test_crash_and_hold_count_visits_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REENGAGE_TEST_CRASH_AT", "here:5")
    monkeypatch.setenv("REENGAGE_TEST_HOLD_AT", "here:1")
    faults.crash_point("here")  # a crash-point visit is not a hold-point visit
    waited: list[int] = []

    def released() -> bool:
        waited.append(1)
        return True

    faults.hold_point("here", until=released)
    assert waited == [1]


@pytest.mark.parametrize("spec", ["here:0", "here:-1", "here:abc"])
def test_a_malformed_visit_count_turns_the_point_off_and_says_so(
    spec: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REENGAGE_TEST_HOLD_AT", spec)
    faults.hold_point("here", until=lambda: False)  # would wait 120 s if it held
    assert f"test fault point ignored: REENGAGE_TEST_HOLD_AT='{spec}'" in capsys.readouterr().err
