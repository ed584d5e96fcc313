"""Reading and writing `partition_progress` (schema.PartitionProgressRow)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from worker.kafka.records import Position
from worker.store.dialect import upsert
from worker.store.schema import PartitionProgressRow


@dataclass(frozen=True, slots=True)
class PartitionProgress:
    """Every record before `caught_up_offset` is applied, and/or every record not applied yet
    is at or after `next_time`. Both None: the owner knows neither yet. `topic_id`: the
    broker's id of the topic these offsets are in, None when the writer's client did not
    know it."""

    next_time: datetime | None
    caught_up_offset: int | None
    topic_id: str | None = None


def write_progress(
    connection: Connection,
    group: str,
    progress: Mapping[Position, PartitionProgress],
    now: datetime,
) -> None:
    if not progress:
        return
    row = PartitionProgressRow
    insert = upsert(connection, row)
    statement = insert.on_conflict_do_update(
        index_elements=[row.consumer_group, row.topic, row.partition],
        set_={
            "topic_id": insert.excluded.topic_id,
            "next_time": insert.excluded.next_time,
            "caught_up_offset": insert.excluded.caught_up_offset,
            "updated_at": insert.excluded.updated_at,
        },
    )
    connection.execute(
        statement,
        [
            {
                "consumer_group": group,
                "topic": topic,
                "partition": partition,
                "topic_id": state.topic_id,
                "next_time": state.next_time,
                "caught_up_offset": state.caught_up_offset,
                "updated_at": now,
            }
            for (topic, partition), state in sorted(progress.items())
        ],
    )


def read_progress(
    connection: Connection, group: str, positions: Collection[Position]
) -> dict[Position, PartitionProgress]:
    """The group's rows for `positions`, whatever topic id they were written with."""
    if not positions:
        return {}
    row = PartitionProgressRow
    statement = select(
        row.topic, row.partition, row.next_time, row.caught_up_offset, row.topic_id
    ).where(
        row.consumer_group == group,
        tuple_(row.topic, row.partition).in_(list(positions)),
    )
    return {
        (r.topic, r.partition): PartitionProgress(r.next_time, r.caught_up_offset, r.topic_id)
        for r in connection.execute(statement)
    }
