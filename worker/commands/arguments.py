"""Command-line values read as the event contract reads them."""

from __future__ import annotations

import argparse
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from worker.contracts.fields import Timestamp

_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)


def parse_time(text: str) -> datetime:
    """argparse type for a time option: RFC 3339 with an offset, exactly what an event's
    timestamp may be (so not epoch seconds, nor a time without its offset)."""
    try:
        return _TIMESTAMP.validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(
            "expected an RFC 3339 time with an offset, e.g. 2026-01-12T09:00:00Z"
        ) from None
