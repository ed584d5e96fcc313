"""Session-wide fixtures live in tests/fixtures/; each module owns one external system."""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.databases",
    "tests.fixtures.signals",
]
