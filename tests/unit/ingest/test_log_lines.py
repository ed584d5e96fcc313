"""What the worker logs about a batch's results once it has committed."""

from __future__ import annotations

from structlog.testing import capture_logs

from worker.ingest.context import EmptyWindow, Origin
from worker.ingest.loop import _log_empty_window


def test_an_empty_window_is_a_warning_with_both_bounds_and_the_events_position() -> None:
    origin = Origin("ats.jobs", 2, 41, "e-1")
    with capture_logs() as logged:
        _log_empty_window(EmptyWindow("acme", "j-1", 500, 450, origin))
    assert logged == [
        {
            "event": "job can match nobody: its inactivity window is empty",
            "log_level": "warning",
            "tenant_id": "acme",
            "job_id": "j-1",
            "min_inactive_days": 500,
            "max_inactive_days": 450,
            "topic": "ats.jobs",
            "partition": 2,
            "offset": 41,
            "event_id": "e-1",
        }
    ]
