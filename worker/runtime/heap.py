"""Garbage-collector settings for the long-running loops (worker, relay, mailer).

Reference counting frees almost everything a batch allocates; the cyclic collector only has
to find cycles. CPython's default starts a young-generation pass every 700 net container
allocations, which a batch of 500 events passes hundreds of times, and every hundredth pass
walks the whole heap: the imported libraries, pydantic's and SQLAlchemy's caches. In the
ingest bench that was a fifth of the worker's CPU time (bench/README.md).

So, once start-up is done: the objects alive then (modules, schemas, compiled statements)
move to the permanent generation, which no pass walks, and a young pass starts every 20,000
allocations instead, which bounds cyclic garbage to a few megabytes between passes.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 20_000


def tune_collector() -> None:
    """Call once, after start-up, before the loop: freezes what start-up left alive."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
