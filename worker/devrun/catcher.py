"""The local SMTP catcher of `make run`: an in-process SMTP server (aiosmtpd) that accepts
every message and stores it, as received, as one `.eml` file in a folder.

Files appear whole (written aside, then renamed), named so that `ls` lists them in arrival
order; any mail client opens them. Nothing is relayed anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# aiosmtpd logs envelope addresses at INFO: personal data stays out of our logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _StoreHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or b""
        self.count += 1  # the handler runs on the server's one event loop thread
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{self.count:06d}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        os.replace(partial, self.folder / name)
        return "250 2.0.0 Message caught"


class _Controller(Controller):
    """aiosmtpd's controller, able to listen on port 0 (a free port, read back after bind)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpCatcher:
    """`start()` listens on 127.0.0.1:`port` (0: any free port, see `.port`); `stop()` ends."""

    def __init__(self, folder: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.folder = folder.resolve()
        self._handler = _StoreHandler(self.folder)
        options: dict[str, Any] = {"enable_SMTPUTF8": True, "data_size_limit": 10 * 1024 * 1024}
        self._controller = _Controller(self._handler, hostname=host, port=port, **options)

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def caught(self) -> int:
        """Messages caught since `start()`."""
        return self._handler.count

    def start(self) -> SmtpCatcher:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
