"""Decoding throughput at the edge, against plain `json.loads` of the same bytes, same run.

A realistic `ats.candidate.updated` snapshot of about 1 KB: a dozen credentials, three past
applications, six timestamps. `json.loads` only parses; `decode` parses, validates the envelope
and every field, trims, and builds frozen models. Target: at least half of `json.loads`'s rate.
Reports a ratio, not a pass/fail on a time: the machine decides the absolute numbers.

    .venv/bin/python -m bench.decode_bench
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable

from worker.contracts.decode import Decoded, decode
from worker.contracts.encode import ats_event
from worker.contracts.examples import example_messages

HANDLED = frozenset({"ats.candidate.updated", "ats.candidate.erased"})
TARGET_RATIO = 0.5
ROUNDS = 7


def candidate_snapshot() -> bytes:
    """The published example, filled out to a typical ATS snapshot."""
    event = example_messages()["ats.candidate.updated"].event
    document = json.loads(ats_event(event.data, event_id=event.id, source=event.source).value)
    data = document["data"]
    data["credentials"] += [
        "PostgreSQL",
        "Apache Kafka",
        "AWS Certified Solutions Architect",
        "Scrum Master",
        "Statistics",
        "German (B2)",
        "Power BI",
        "Looker",
    ]
    data["applications"] += [
        {
            "job_id": "J-0713",
            "job_title": "Junior BI Developer",
            "applied_at": "2024-09-20T08:00:00Z",
            "status": "withdrawn",
        },
        {
            "job_id": "J-0420",
            "job_title": "Reporting Analyst",
            "applied_at": "2023-01-11T12:30:00+01:00",
            "status": "rejected",
        },
    ]
    return json.dumps(document, ensure_ascii=False).encode()


def best_rate(run: Callable[[], object], number: int) -> float:
    """Events per second of the fastest round (the least disturbed by other processes)."""
    seconds = min(timeit.repeat(run, number=number, repeat=ROUNDS))
    return number / seconds


def main() -> None:
    raw = candidate_snapshot()
    assert isinstance(decode(raw, HANDLED), Decoded), "the benchmark event must decode"
    number = 20_000
    loads_rate = best_rate(lambda: json.loads(raw), number)
    decode_rate = best_rate(lambda: decode(raw, HANDLED), number)
    ratio = decode_rate / loads_rate
    print(f"event: ats.candidate.updated, {len(raw)} bytes")
    print(f"json.loads: {loads_rate:12,.0f} events/s")
    print(f"decode:     {decode_rate:12,.0f} events/s")
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"ratio decode/json.loads: {ratio:.2f} ({verdict} the target of {TARGET_RATIO})")


if __name__ == "__main__":
    main()
