"""Appending to the outbox, inside the caller's transaction (the one holding the decision)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from worker.store.schema import OutboxRow


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    topic: str
    key: str
    payload: str
    headers: dict[str, str] = field(default_factory=dict)


def append(connection: Connection, messages: Sequence[OutboxMessage], created_at: datetime) -> None:
    """One multi-row insert; ids grow in the order given, which is the publish order."""
    if not messages:
        return
    connection.execute(
        insert(OutboxRow),
        [
            {
                "topic": m.topic,
                "key": m.key,
                "headers": m.headers,
                "payload": m.payload,
                "created_at": created_at,
                "published_at": None,
            }
            for m in messages
        ],
    )
