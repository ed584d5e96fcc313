"""Fixtures shared by the integration tests that run reengage processes."""

import pytest

from tests.integration.worker.harness import Topics
from worker.store.versioning import migrate


@pytest.fixture
def topics(make_topic) -> Topics:
    return Topics(
        jobs=make_topic(2),
        candidates=make_topic(3),
        outreach=make_topic(3),
        status=make_topic(1),
    )


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate(database_url)
    return database_url
