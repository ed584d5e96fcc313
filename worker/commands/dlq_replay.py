"""`reengage dlq replay`: re-publish dead letters to their original topic after a fix.

Exit codes: 0 done (caught up, --max reached, or interrupted by SIGTERM/SIGINT after
committing what was replayed); 3 stopped at a dead letter that is still invalid
(stop-on-error), with one line on stderr naming it; 2 a bad argument or setting; 1 anything
unexpected, dead letters expired, or a replay that gave up with dead letters left (one line
on stderr says so). The summary line goes to stdout in every case but 2 and the unexpected.
"""

from __future__ import annotations

import argparse
import sys

from worker.dlq.offsets import DeadLettersExpiredError, NoSuchTopicError
from worker.dlq.policy import Policy
from worker.dlq.replay import replay
from worker.kafka.dead_letters import DLQ_SUFFIX
from worker.runtime.shutdown import EXIT_DEADLINE_S, Shutdown
from worker.settings import ConfigurationError, Settings

EXIT_OK = 0
EXIT_EXPIRED = 1
EXIT_UNFINISHED = 1
EXIT_STOPPED = 3

EPILOG = (
    "Reads TOPIC with its own consumer group (reengage-dlq-replay, or "
    "$REENGAGE_CONSUMER_GROUP-dlq-replay) from where the last replay stopped, up to the end "
    "offsets seen at start. Each dead letter goes back to its original topic with its key, "
    "value and headers (its dlq.* failure headers removed, dlq.replayed.from added); offsets "
    "are committed after the broker acknowledges. Exit 0 done, 3 stopped at a still-invalid "
    "dead letter, 2 bad argument or setting, 1 unexpected or gave up with dead letters left."
)


def run(args: argparse.Namespace, settings: Settings) -> int:
    topic: str = args.topic
    limit: int | None = args.max
    if not topic.endswith(DLQ_SUFFIX):
        raise ConfigurationError("--topic", f"{topic} is not a dead-letter topic (no .dlq suffix)")
    if limit is not None and limit < 1:
        raise ConfigurationError("--max", "must be at least 1")
    # The deadline too: exit 0 on a signal already means "stopped, maybe not done", and a
    # forced exit is as safe as a kill (what was not committed is replayed again next time),
    # while a commit to a hung broker would otherwise wait out its 10 s.
    shutdown = Shutdown(deadline_s=EXIT_DEADLINE_S).install()
    try:
        with shutdown.noting_failure():
            report = replay(settings, topic, Policy(args.policy), limit, shutdown)
    except NoSuchTopicError as exc:
        raise ConfigurationError("--topic", str(exc)) from None
    except DeadLettersExpiredError as exc:
        print(f"reengage: {exc}", file=sys.stderr)
        return EXIT_EXPIRED
    print(report.summary())
    stop_reason = report.stop_reason()
    if stop_reason is not None:
        print(f"reengage: {stop_reason}", file=sys.stderr)
        return EXIT_STOPPED
    unfinished = report.unfinished()
    if unfinished is not None:
        print(f"reengage: {unfinished}", file=sys.stderr)
        return EXIT_UNFINISHED
    return EXIT_OK
