"""The producing side of the Kafka seam: idempotent sends that are confirmed or raise."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.producer.transaction_manager import TransactionState

from worker.errors import TransientError
from worker.kafka.config import producer_options
from worker.logs import get_logger
from worker.runtime.shutdown import Shutdown
from worker.settings import Settings

log = get_logger("reengage.producer")

# Once a shutdown is asked for, a send waits this much longer for the broker: enough for one
# that is up to answer, little enough that SIGTERM still ends the process within 10 s
# (OPERATIONS.md) when the broker hangs. Looked at every slice of waiting.
_WAIT_AFTER_SHUTDOWN_S = 1.0
_WAIT_SLICE_S = 0.25
# A sender told to stop without sending ends at its next loop; not worth the shutdown's time.
_SENDER_JOIN_S = 0.5


class SendAbandonedError(TransientError):
    """Shutdown was asked for while the broker had not acknowledged a send. Transient, so the
    caller's retry loop sees the shutdown and stops; what the send carried stays unrecorded
    as sent (outbox rows unmarked, offsets uncommitted), and the next run sends it again."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class Producer:
    """Sends batches and waits for the broker's acknowledgement of every record in it.

    With a `shutdown`, a wait for the broker gives up soon after shutdown is requested
    (SendAbandonedError); without one, it waits its full timeout."""

    def __init__(self, settings: Settings, *, shutdown: Shutdown | None = None, **overrides: Any):
        self._producer = KafkaProducer(**{**producer_options(settings), **overrides})
        self._shutdown = shutdown

    def send_all(self, messages: Sequence[Outgoing], timeout_s: float = 30.0) -> None:
        """Raises the first send error; the caller retries the whole batch (idempotence and
        stable keys make the repeat harmless)."""
        deadline = time.monotonic() + timeout_s
        recover_producer_id(self._producer)
        try:
            futures = [
                self._producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers))
                for m in messages
            ]
        except KafkaTimeoutError:
            # send() itself waits (max_block_ms) for a topic's metadata the producer has not
            # seen yet: with the broker hanging, that is the wait a shutdown breaks off.
            if self._shutdown_requested():
                raise SendAbandonedError(
                    "shutdown requested while the broker had not answered for a topic"
                ) from None
            raise
        # Sends now, not after linger_ms. Its own errors are not the sends' (kafka-python
        # 3.0.12 raises UnknownError "Future not done" from it when a batch fails, e.g. for
        # its size): each future below reports how its record fared.
        with contextlib.suppress(KafkaError):
            self._producer.flush(timeout=_WAIT_SLICE_S)
        give_up_at: float | None = None
        # Each of ours, not flush(): the relay shares this producer, and a flush would also
        # wait for what it keeps adding.
        for future in futures:
            while True:
                try:
                    future.get(timeout=max(0.0, min(_WAIT_SLICE_S, deadline - time.monotonic())))
                    break
                except KafkaTimeoutError:
                    now = time.monotonic()
                    if future.is_done or now >= deadline:  # done: its delivery timed out
                        raise
                    # Another batch (another thread's, or an earlier attempt's) may have
                    # expired meanwhile and left ours waiting for an id nobody requests.
                    recover_producer_id(self._producer)
                    if self._shutdown_requested():
                        give_up_at = give_up_at or now + _WAIT_AFTER_SHUTDOWN_S
                        if now >= give_up_at:
                            raise SendAbandonedError(
                                "shutdown requested while the broker had not acknowledged a send"
                            ) from None

    def _shutdown_requested(self) -> bool:
        return self._shutdown is not None and self._shutdown.requested

    def close(self, timeout_s: float = 10.0) -> None:
        """Waits up to `timeout_s` for what is in flight, then drops it: every caller keeps its
        own record of what the broker has not acknowledged (outbox rows unmarked, offsets
        uncommitted, the mail ledger) and sends it again on its next run."""
        try:
            self._producer.close(timeout=timeout_s)
        except KafkaTimeoutError:
            # kafka-python raises here before stopping its sender thread, which would go on
            # retrying until the process ends: stop it without sending, which also fails
            # the futures still waiting.
            log.warning("producer closed with sends the broker has not acknowledged")
            sender = getattr(self._producer, "_sender", None)
            if sender is not None:
                sender.force_close()
                sender.join(_SENDER_JOIN_S)


def recover_producer_id(client: KafkaProducer) -> bool:
    """Let an idempotent producer that lost its producer id ask for a new one. True if it had
    to.

    kafka-python 3.0.12 drops the producer id when a batch it had already sent expires
    (`delivery_timeout_ms`, 120 s by default: a broker outage that long) or fails for good,
    so that later batches do not meet the broker with stale sequence numbers. But it leaves
    the producer READY, and its sender asks for a new id only from UNINITIALIZED: every later
    send waits for an id nobody requests and expires in turn, until the process is restarted.
    Putting it back to UNINITIALIZED is what the Java client does there (a new id, new
    sequences). The attributes are checked, not assumed: a version that fixed this, or changed
    them, is left alone, and tests/integration/test_producer_recovery.py says so.
    """
    manager = getattr(client, "_transaction_manager", None)
    lock = getattr(manager, "_lock", None)
    if manager is None or lock is None or manager.is_transactional():
        return False
    with lock:
        stranded = (
            getattr(manager, "_current_state", None) == TransactionState.READY
            and not manager.has_producer_id()
        )
        if stranded:
            manager._current_state = TransactionState.UNINITIALIZED
    if stranded:
        log.warning("producer lost its producer id after a failed send: asking for a new one")
    return stranded
