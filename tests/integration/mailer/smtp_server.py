"""A real SMTP server for the mailer tests: aiosmtpd on a free loopback port, in a thread of
the test process, recording every message it accepts.

What it accepts is the tests' source of truth ("count at the SMTP server"). Replies can be
scripted per recipient (e.g. 451 once, then 250; or 550), and the reply to the end of data can
be held back until the test releases it, so a test can kill the mailer at an exact point of
the SMTP conversation.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    @cached_property  # parsing takes ~1 ms: counting a thousand at every check starves the server
    def message_id(self) -> str:
        return str(self.parsed()["Message-ID"])


# Decides a reply: (stage "rcpt" or "data", recipient, attempt number at that stage) -> a reply
# line, or None for the normal 250.
Script = Callable[[str, str, int], str | None]


@dataclass
class _Handler:
    script: Script | None = None
    accepted: list[Received] = field(default_factory=list)
    # End-of-data attempts per recipient (accepted or refused).
    attempts: Counter[str] = field(default_factory=Counter)
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    # While set: replies at `hold_stage` wait for `hold` (after recording, for "data").
    hold: threading.Event | None = None
    hold_stage: str = "data"
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        with self.lock:
            self.rcpt_attempts[address] += 1
            attempt = self.rcpt_attempts[address]
        reply = self.script("rcpt", address, attempt) if self.script else None
        if reply is not None:
            return reply
        await self._held("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_QUIT(self, _server: Any, _session: Any, _envelope: Any) -> str:
        await self._held("quit")
        return "221 Bye"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0]
        with self.lock:
            self.attempts[recipient] += 1
            attempt = self.attempts[recipient]
        reply = self.script("data", recipient, attempt) if self.script else None
        if reply is not None:
            return reply
        with self.lock:
            self.accepted.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
        # Accepted; with a hold at "data" the 250 is withheld, the client is past its point
        # of no return and cannot know the outcome.
        await self._held("data")
        return "250 2.0.0 Message accepted for delivery"

    async def _held(self, stage: str) -> None:
        hold = self.hold
        if hold is not None and stage == self.hold_stage:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, 60)


class SmtpServer:
    def __init__(self, script: Script | None = None, *, smtputf8: bool = True) -> None:
        self.handler = _Handler(script=script)
        self.port = _free_port()
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8
        )

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        if self.handler.hold is not None:
            self.handler.hold.set()
        self._controller.stop()

    @property
    def accepted(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.accepted)

    def message_ids(self) -> Counter[str]:
        return Counter(received.message_id for received in self.accepted)

    def hold_replies(self, stage: str = "data") -> None:
        """From now on, keep replies at `stage` ("rcpt"; "data": after accepting the
        message; "quit") back until `release()`."""
        self.handler.hold_stage = stage
        self.handler.holding.clear()
        self.handler.hold = threading.Event()

    def wait_until_holding(self, timeout_s: float = 60.0) -> bool:
        return self.handler.holding.wait(timeout_s)

    def release(self) -> None:
        if self.handler.hold is not None:
            self.handler.hold.set()
        self.handler.hold = None


@contextmanager
def smtp_server(script: Script | None = None, *, smtputf8: bool = True) -> Iterator[SmtpServer]:
    server = SmtpServer(script, smtputf8=smtputf8).start()
    try:
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
