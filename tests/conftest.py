"""Session-wide fixtures live in tests/fixtures/; each module owns one external system."""

from hypothesis import settings

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.databases",
    "tests.fixtures.signals",
]

# Hypothesis fails an example that takes over 200 ms by default: a timing threshold, which a
# loaded machine (a broker starting, CI's two cores) trips on code that is only slow, not wrong.
settings.register_profile("reengage", deadline=None)
settings.load_profile("reengage")
