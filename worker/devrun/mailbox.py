"""Reading the catcher's folder back: which outreach each caught email belongs to.

The reference mailer writes `Message-ID: <{outreach_id}@{sender domain}>` (see
worker/mailer/compose.py), so a caught message names its outreach without reading its body.
Only headers are parsed, and each file once: the folder can hold thousands.
"""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

DEFAULT_MAIL_DIR = Path(".run/mail")

_OUTREACH_MESSAGE_ID = re.compile(
    r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^>]+>"
)


def outreach_of(message_id: str | None) -> str | None:
    """The outreach id a reengage Message-ID carries, or None for any other message."""
    if not message_id:
        return None
    match = _OUTREACH_MESSAGE_ID.fullmatch(message_id.strip())
    return match.group(1) if match else None


class Mailbox:
    """The caught messages in `folder`, by outreach id; `refresh()` reads new files only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: set[str] = set()
        self.by_outreach: dict[str, Path] = {}
        self._parser = BytesHeaderParser(policy=default)

    @property
    def exists(self) -> bool:
        return self.folder.is_dir()

    def refresh(self) -> Mailbox:
        if not self.exists:
            return self
        for path in sorted(self.folder.glob("*.eml")):
            if path.name in self._seen:
                continue
            self._seen.add(path.name)
            with path.open("rb") as handle:
                headers = self._parser.parse(handle)
            outreach = outreach_of(headers.get("Message-ID"))
            if outreach is not None:
                self.by_outreach.setdefault(outreach, path)
        return self
