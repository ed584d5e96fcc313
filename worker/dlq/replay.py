"""The replay loop: read dead letters, re-publish them to their original topic, commit.

Nothing is lost: a batch's re-published messages are acknowledged by the broker before the
dead-letter offsets are committed. A crash in between replays those dead letters again on
the next run; the copies carry the same CloudEvents id, so the worker's deduplication makes
the repeat harmless.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from worker.dlq.backlog import Backlog
from worker.dlq.offsets import measure
from worker.dlq.policy import Decision, Drop, Policy, Replay, Stop, plan
from worker.dlq.report import MAX_IDLE_POLLS, Ending, ReplayReport
from worker.dlq.restore import destination, original_message
from worker.dlq.topics import types_by_topic
from worker.kafka.consumer import BatchConsumer
from worker.kafka.producer import Producer, SendAbandonedError
from worker.logs import get_logger
from worker.runtime.faults import hold_point
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings

log = get_logger("reengage.dlq")

BATCH_SIZE = 500
POLL_TIMEOUT_S = 1.0
# How long to wait for partitions beyond the group's session timeout: a replay killed a moment
# ago still holds them until the broker gives up on it, and the rebalance takes a while too.
JOIN_MARGIN_S = 30.0


def replay_group(settings: Settings) -> str:
    """`reengage-dlq-replay`, or `{REENGAGE_CONSUMER_GROUP}-dlq-replay`. Never the worker's own
    group: joining it with another subscription would rebalance the running workers."""
    if settings.consumer_group:
        return f"{settings.consumer_group}-dlq-replay"
    return "reengage-dlq-replay"


def replay(
    settings: Settings,
    dlq_topic: str,
    policy: Policy,
    limit: int | None,
    shutdown: Shutdown,
) -> ReplayReport:
    """Replay up to `limit` dead letters of `dlq_topic` (all of them when None) from the replay
    group's committed position up to the end offsets seen now."""
    group = replay_group(settings)
    # A signal while waiting for the broker ends the command (nothing replayed yet); a stop
    # requested before the call still measures, so the report says what is left.
    waiting_gives_way_to = None if shutdown.requested else shutdown
    backlog = Backlog(measure(settings, group, dlq_topic, waiting_gives_way_to))
    report = ReplayReport(dlq_topic)
    log.info(
        "dead-letter replay starting",
        topic=dlq_topic,
        group=group,
        policy=str(policy),
        pending=backlog.pending,
        max=limit,
    )
    if not backlog.caught_up():
        consumer = BatchConsumer(
            settings,
            group,
            [dlq_topic],
            max_records=min(BATCH_SIZE, limit or BATCH_SIZE),
        )
        # Its waits for the broker give way to SIGTERM, as the worker's do.
        producer = Producer(settings, shutdown=shutdown)
        try:
            loop = _Loop(
                consumer=consumer,
                producer=producer,
                backlog=backlog,
                types=types_by_topic(settings),
                policy=policy,
                report=report,
                join_wait_s=settings.kafka_session_timeout_ms / 1000 + JOIN_MARGIN_S,
            )
            report.ending = loop.run(limit, shutdown)
        finally:
            closing = consumer.start_closing(timeout_s=3)
            producer.close(timeout_s=3)
            closing.join(timeout=5)
    report.left = backlog.pending
    log.info(
        "dead-letter replay finished",
        topic=dlq_topic,
        replayed=report.replayed,
        reinserted_invalid=report.reinserted_invalid,
        dropped=report.dropped,
        left=report.left,
        ending=report.ending,
    )
    return report


class _Loop:
    def __init__(
        self,
        *,
        consumer: BatchConsumer,
        producer: Producer,
        backlog: Backlog,
        types: Mapping[str, frozenset[str]],
        policy: Policy,
        report: ReplayReport,
        join_wait_s: float,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._backlog = backlog
        self._types = types
        self._policy = policy
        self._report = report
        self._join_wait_s = join_wait_s

    def run(self, limit: int | None, shutdown: Shutdown) -> Ending:
        idle_polls = 0
        unassigned_since: float | None = time.monotonic()
        while not shutdown.requested:
            remaining = None if limit is None else limit - self._report.handled
            if remaining == 0:
                return "max"
            records = self._consumer.poll(POLL_TIMEOUT_S)
            due = [r for r in records if self._backlog.due(r)]
            for beyond in (r for r in records if not self._backlog.due(r)):
                self._backlog.advance(beyond)
            if not records:
                # Offsets that are never handed out (a transactional producer's markers)
                # still move the position: without this the replay would wait for them.
                for (_, partition), position in self._consumer.positions().items():
                    self._backlog.reached(partition, position)
            decisions = plan(due, self._policy, self._types, remaining)
            self._apply(decisions, shutdown)
            if self._report.stopped_at is not None:
                return "stopped"
            if self._caught_up():
                return "caught_up"
            if self._consumer.assigned:
                # Only empty polls with partitions in hand say the dead letters are not coming.
                unassigned_since = None
                idle_polls = 0 if records else idle_polls + 1
                if idle_polls >= MAX_IDLE_POLLS:
                    log.warning("no dead letters arrived; stopping", topic=self._report.topic)
                    return "idle"
            else:
                idle_polls = 0
                if unassigned_since is None:
                    unassigned_since = time.monotonic()
                if time.monotonic() - unassigned_since > self._join_wait_s:
                    log.warning("no partition was assigned; stopping", topic=self._report.topic)
                    return "unassigned"
        return "interrupted"

    def _caught_up(self) -> bool:
        # Only the partitions this member holds: a concurrent replay in the same group
        # replays the others.
        assigned = self._consumer.assigned
        return self._backlog.caught_up() or (
            bool(assigned) and self._backlog.caught_up(p for _, p in assigned)
        )

    def _apply(self, decisions: Sequence[Decision], shutdown: Shutdown) -> None:
        replays = [d for d in decisions if isinstance(d, Replay)]
        handled = [d.record for d in decisions if not isinstance(d, Stop)]
        if replays:
            hold_point("dlq-replay-before-send", until=lambda: shutdown.requested)
            try:
                self._producer.send_all([original_message(d.record) for d in replays])
            except SendAbandonedError:
                # Only once shutdown is asked for, which ends the loop. Not committed: the
                # next replay sends the batch again (the worker ignores what it has seen, by
                # CloudEvents source and id).
                log.info("shutdown while the broker had not acknowledged the batch")
                return
        # Only after the broker acknowledged every copy.
        if not self._consumer.commit(handled):
            # A rebalance refused the commit (another replay joined the group): the copies
            # went, but the letters stay on the DLQ for whoever holds their partitions now,
            # this member too if it kept them. Read again, sent again (the worker ignores
            # what it has seen), and counted then, so `--max` and the summary stay true.
            self._consumer.rewind(handled)
            return
        for record in handled:
            self._backlog.advance(record)
        self._report.count(decisions)
        for decision in decisions:
            _log_decision(decision)


def _log_decision(decision: Decision) -> None:
    record = decision.record
    problem = decision.still_invalid
    fields: dict[str, object] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    if problem is not None:
        fields.update(error_class=problem.error_class, reason=problem.reason)
    fields["to_topic"] = destination(record)
    if isinstance(decision, Replay):
        if problem is None:
            log.info("dead letter replayed", **fields)
        else:
            log.warning("dead letter still invalid, reinserted", **fields)
    elif isinstance(decision, Drop):
        log.warning("dead letter still invalid, dropped", **fields)
    else:
        log.error("dead letter still invalid, replay stopped", **fields)
