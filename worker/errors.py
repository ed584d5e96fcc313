"""The small exception tree every component shares.

- TransientError: the world is briefly unavailable (database, broker); retry in place.
- InvalidInputError: this message can never be processed; dead-letter it and go on.
- FatalError: carrying on would do harm or loop forever; stop the process loudly.
"""

from __future__ import annotations


class ReengageError(Exception):
    pass


class TransientError(ReengageError):
    pass


class InvalidInputError(ReengageError):
    pass


class FatalError(ReengageError):
    pass
