"""The small exception tree every component shares.

- TransientError: the world is briefly unavailable (database, broker); retry in place.
- FatalError: carrying on would do harm or loop forever; stop the process loudly.

Invalid input is not an exception: `contracts.decode` returns it as a value (`Invalid`, with
its dead-letter class), so a batch is sorted into decoded records and dead letters before any
handler runs. A handler that fails on a valid event with anything but these classes has its
event dead-lettered alone (`processing_failed`, ingest/loop.py); these classes stop or retry
the batch instead, so they must never mean "this one message is bad".
"""

from __future__ import annotations


class ReengageError(Exception):
    pass


class TransientError(ReengageError):
    pass


class FatalError(ReengageError):
    pass
