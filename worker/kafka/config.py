"""kafka-python client options derived from the settings, in one place for every client."""

from __future__ import annotations

from typing import Any

from worker.settings import Settings


def connection_options(settings: Settings) -> dict[str, Any]:
    """Bootstrap and security options shared by consumers, producers and admin clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "security_protocol": settings.kafka_security_protocol,
        "client_id": "reengage",
        # Bounded per attempt: start-up retries until REENGAGE_STARTUP_TIMEOUT_SECONDS.
        "bootstrap_timeout_ms": 10_000,
    }
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_ssl_cafile is not None:
        options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return options


def producer_options(settings: Settings) -> dict[str, Any]:
    """Idempotent, fully acknowledged, ordered: a retried send never duplicates or reorders."""
    return {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        # How long send() may wait for a topic's metadata (or buffer space): kafka-python's
        # 60 s would outlast SIGTERM's 10 s when the broker is away; the callers retry.
        "max_block_ms": 5_000,
        # Dead letters carry the original bytes, which may exceed the 1 MiB default.
        "max_request_size": 16 * 1024 * 1024,
        "compression_type": None,
    }


def consumer_options(settings: Settings, group_id: str) -> dict[str, Any]:
    """Explicit commits only; positions start at the beginning for a new group, so a new
    deployment sees the whole history rather than silently skipping it. Subscribing never
    creates a topic: a misspelt or deleted topic would come back with the broker's default
    partition count (often 1), capping the group at one member for it; a missing topic is
    logged instead and consumed once someone creates it."""
    return {
        **connection_options(settings),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 500,
        "max_poll_interval_ms": 300_000,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        # Kafka's own rule of thumb, a third of the session at most: with the shortest
        # session allowed (6 s), one late heartbeat would otherwise cost the membership.
        "heartbeat_interval_ms": min(3_000, settings.kafka_session_timeout_ms // 3),
        "isolation_level": "read_committed",
        "allow_auto_create_topics": False,
    }
