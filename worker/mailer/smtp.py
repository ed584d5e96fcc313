"""The SMTP seam: one connection, reused; one message per transaction, with a claim step
right before the end of data.

A server can only have accepted a message once it has read the end of data (the final
`CRLF.CRLF`). Everything before it (MAIL, RCPT, DATA, the body) can be abandoned by closing the
connection, and the server then discards what it received. So `send()` transfers the whole
message, then calls `claim(write_end_of_data)`: the claim (`pending -> sending`) commits and
calls the writer as its COMMIT goes out (worker/mailer/handover.py), or says no without calling
it. What can be known afterwards:

- `Delivered`: 250 to the end of data.
- `Refused`: a reply that is not 2xx, at `stage`; the message was not accepted. 4xx is worth
  retrying later (`transient`), 5xx is not.
- `Unknown`: the end of data was written but no reply came (connection lost or timed out):
  the server may or may not have accepted it.
- `NotClaimed`: the claim said no (another mailer, or a cancellation, got there first);
  nothing was handed over.

Failures to reach the server at all (refused connection, 421, a drop before the end of data)
raise `ServerUnavailableError`, a transient error: nothing was sent, so the caller may retry
the whole message. An exception out of `send()` means the end of data was not written, unless
it came out of `claim` after the writer was called (the caller's wrapper knows).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from worker.errors import TransientError
from worker.logs import get_logger
from worker.mailer.compose import Composed
from worker.mailer.text import clean
from worker.settings import ConfigurationError, Settings

log = get_logger("reengage.mailer.smtp")

Stage = Literal["connect", "mail", "rcpt", "data", "end_of_data"]

COMMAND_TIMEOUT_S = 60.0
# A server that is up accepts the TCP connection in milliseconds; this also bounds how long a
# shutdown can be held by a connection attempt, which `abort()` cannot break off.
CONNECT_TIMEOUT_S = 5.0
# RFC 5321 asks clients to wait 10 minutes for the reply to the end of data; we wait less, so
# the consumer is never away from Kafka for longer than its poll interval allows.
END_OF_DATA_TIMEOUT_S = 120.0
# A connection idle for this long is checked with NOOP before reuse: servers drop idle ones.
IDLE_CHECK_S = 30.0
_DETAIL_LIMIT = 300
_ADDRESS = re.compile(r"<?[^\s<>@]+(?:@|%40)[^\s<>]+>?")  # %40: an address in a URL


class ServerUnavailableError(TransientError):
    """The server could not be reached or dropped the connection before the end of data."""


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    @property
    def transient(self) -> bool:
        return 400 <= self.code < 500

    def describe(self, stage: Stage, names: Sequence[str] = ()) -> str:
        """For the `failed` event's detail and logs: no addresses (servers quote them), and
        none of `names` (the recipient's, which some servers quote too)."""
        text = self.text
        # Longest first, so a full name goes before the first name inside it; names before
        # addresses, so a name cannot match inside the "[address]" put in an address's place.
        # As whole words: then a short name ("Li") or a plain local part ("info") masks the
        # person, not the letters of the server's own words.
        for name in sorted(names, key=len, reverse=True):
            whole_word = rf"(?<![^\W_]){re.escape(name)}(?![^\W_])"
            text = re.sub(whole_word, "[name]", text, flags=re.IGNORECASE)
        text = _ADDRESS.sub("[address]", text)
        return clean(f"{self.code} {text} (at {stage.replace('_', ' ')})", _DETAIL_LIMIT)


# A recipient refused for who we are, not for who they are: the server wants a login (530)
# or does not relay for this host (a security-class 5.7.x reply saying so, as Postfix's
# "554 5.7.1 <...>: Relay access denied"). Reported `rejected`, each would mark one more good
# address unusable for good, for every candidate holding it: the whole pool, one email at a
# time. Kept narrow, because a configuration error stops the mailer at this record on every
# start: replies of another class (5.1.x: "User unknown in relay recipient table") and
# policies of one recipient's own ("only authenticated senders", "does not accept your
# sender") stay the address's. Matched after addresses are masked.
_NOT_RELAYED = re.compile(
    r"\b(?:relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)|unable to relay)",
    re.IGNORECASE,
)
_ENHANCED_STATUS = re.compile(r"^[245]\.(\d{1,3})\.\d{1,3}\b")


def _raise_if_refused_for_who_we_are(reply: Reply, names: Sequence[str]) -> None:
    """A permanent RCPT refusal that is about this mailer is a configuration error (exit 2,
    nothing marked); its message quotes the reply, addresses and names masked."""
    if reply.code == 530 and "starttls" in reply.text.lower():
        variable = "REENGAGE_SMTP_STARTTLS"
    elif reply.code == 530 or (reply.code >= 500 and _speaks_of_relaying(reply.text)):
        variable = "REENGAGE_SMTP_USERNAME"
    else:
        return
    raise ConfigurationError(
        variable,
        "the SMTP server does not take recipients from this mailer (a login, STARTTLS or "
        f"relay permission is missing): {reply.describe('rcpt', names)}",
    )


def _speaks_of_relaying(text: str) -> bool:
    """Relaying refused, in a reply whose enhanced status, if any, is of the security
    class (X.7.x)."""
    status = _ENHANCED_STATUS.match(text)
    if status is not None and status.group(1) != "7":
        return False
    return _NOT_RELAYED.search(_ADDRESS.sub("[address]", text)) is not None


@dataclass(frozen=True, slots=True)
class Delivered:
    reply: Reply


@dataclass(frozen=True, slots=True)
class Refused:
    stage: Stage
    reply: Reply

    @property
    def after_claim(self) -> bool:
        return self.stage == "end_of_data"


@dataclass(frozen=True, slots=True)
class Unknown:
    detail: str


@dataclass(frozen=True, slots=True)
class NotClaimed:
    pass


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Our server cannot carry this message (it lacks an extension the address needs):
    nothing was sent, and the address is not to blame."""

    detail: str


Attempt = Delivered | Refused | Unknown | NotClaimed | Unsupported


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )


class SmtpSender:
    """Holds one SMTP connection open across messages; reconnects when it was lost."""

    def __init__(self, config: SmtpConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._smtp: smtplib.SMTP | None = None
        # The connection being set up (greeting, EHLO, STARTTLS, AUTH), for `abort()`.
        self._connecting: smtplib.SMTP | None = None
        self._aborted = False
        # Held while the end of data is decided and written: an abort lands wholly before it
        # (nothing handed over, the claim is given back) or wholly after (outcome unknown).
        self._handover = threading.Lock()
        self._last_used = 0.0

    def send(self, mail: Composed, claim: Callable[[Callable[[], bool]], bool]) -> Attempt:
        self._raise_if_aborted()
        smtp = self._connection()
        try:
            self._raise_if_aborted()
            refused = self._transfer(smtp, mail)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ServerUnavailableError(f"SMTP connection lost ({type(exc).__name__})") from exc
        if refused is not None:
            return refused
        self._raise_if_aborted()  # before a claim is committed that would have to be undone
        end_of_data = _EndOfData(smtp, self._handover, lambda: self._aborted)
        try:
            claimed = claim(end_of_data)
        except BaseException:
            # Mid-DATA, only closing the connection discards the message. The caller knows
            # whether the end of data went out (it wrapped the writer) and acts on that.
            self._drop()
            raise
        if not claimed:
            self._drop()
            return NotClaimed()
        if end_of_data.withheld:
            # Broken off for shutdown before the end of data: nothing was handed over (the
            # caller, told so by the writer, gives the claim back) and the server discards it.
            self._drop()
            self._raise_if_aborted()
        return self._end_of_data_reply(smtp, end_of_data)

    def abort(self) -> None:
        """Break off a send blocked on a slow server, from another thread (a shutdown cannot
        wait out a 60 s or 120 s timeout): the blocked read fails at once. Before the end of
        data the server discards the message and it is sent on the next run; after it, the
        outcome is unknown, exactly as when the connection is lost there. Every later send
        fails at once, and `close()` skips the QUIT the server may not answer either."""
        with self._handover:
            self._aborted = True
        # `_connecting` first: _connect() sets `_smtp` before it clears `_connecting`.
        for smtp in (self._connecting, self._smtp):
            sock = smtp.sock if smtp is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _raise_if_aborted(self) -> None:
        if self._aborted:
            raise ServerUnavailableError("SMTP sending broken off for shutdown")

    def close(self) -> None:
        if self._smtp is not None and not self._aborted:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
        self._drop()

    def _transfer(self, smtp: smtplib.SMTP, mail: Composed) -> Refused | Unsupported | None:
        """MAIL, RCPT, DATA and the body; None when the server waits for the end of data."""
        options: list[str] = []
        if mail.smtputf8:
            if not smtp.has_extn("smtputf8"):
                # Not a reply of the server's, and not the address's fault: it is valid.
                return Unsupported(
                    "the SMTP server does not offer SMTPUTF8, which this address needs"
                )
            options.append("SMTPUTF8")
        reply = self._checked(smtp, "mail", smtp.mail(mail.envelope_from, options))
        if reply.code != 250:
            if not reply.transient:
                raise ConfigurationError(
                    "REENGAGE_MAIL_FROM", f"the SMTP server refuses the sender ({reply.code})"
                )
            return self._reset(smtp, Refused("mail", reply))
        reply = self._checked(smtp, "rcpt", smtp.rcpt(mail.envelope_to))
        if reply.code not in (250, 251):
            _raise_if_refused_for_who_we_are(reply, mail.names)
            return self._reset(smtp, Refused("rcpt", reply))
        smtp.putcmd("data")
        reply = self._checked(smtp, "data", smtp.getreply())
        if reply.code != 354:
            return self._reset(smtp, Refused("data", reply))
        smtp.send(_dot_stuffed(mail.as_bytes()))
        return None

    def _end_of_data_reply(self, smtp: smtplib.SMTP, end_of_data: _EndOfData) -> Attempt:
        if end_of_data.error is not None:
            self._drop()
            return Unknown(f"writing the end of data failed ({end_of_data.error})")
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(END_OF_DATA_TIMEOUT_S)
            code, text = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Unknown(f"no reply to the end of data ({type(exc).__name__})")
        if smtp.sock is not None:
            smtp.sock.settimeout(COMMAND_TIMEOUT_S)
        self._last_used = self._clock()
        reply = Reply(code, _text(text))
        if code == 250:
            return Delivered(reply)
        if code == 421:
            self._drop()
        return Refused("end_of_data", reply)

    def _checked(self, smtp: smtplib.SMTP, stage: Stage, answer: tuple[int, bytes]) -> Reply:
        code, text = answer
        if code == 421:  # the server is closing the connection: try again on a new one
            self._drop()
            raise ServerUnavailableError(f"SMTP server unavailable (421 at {stage})")
        return Reply(code, _text(text))

    def _reset(self, smtp: smtplib.SMTP, refused: Refused) -> Refused:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        self._last_used = self._clock()
        return refused

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and self._clock() - self._last_used > IDLE_CHECK_S:
            try:
                if self._smtp.noop()[0] != 250:
                    self._drop()
            except (smtplib.SMTPException, OSError):
                self._drop()
        if self._smtp is None:
            self._smtp = self._connect()
        self._last_used = self._clock()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        self._raise_if_aborted()
        smtp = self._open()
        try:
            self._set_up(smtp)
            self._smtp = smtp  # before _connecting is cleared: abort() always sees one of them
        except smtplib.SMTPAuthenticationError:
            smtp.close()
            raise ConfigurationError(
                "REENGAGE_SMTP_USERNAME", "the SMTP server refused the login"
            ) from None
        except ssl.SSLCertVerificationError:
            smtp.close()
            raise ConfigurationError(
                "REENGAGE_SMTP_HOST",
                "the SMTP server's certificate is not trusted or not for this host name",
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise ServerUnavailableError(
                f"SMTP session set-up failed ({type(exc).__name__})"
            ) from exc
        except BaseException:
            smtp.close()
            raise
        finally:
            self._connecting = None
        return smtp

    def _open(self) -> smtplib.SMTP:
        """The TCP connection and the greeting; reachable by `abort()` from the start."""
        smtp = _Smtp(aborted=lambda: self._aborted)
        self._connecting = smtp
        try:
            code, _ = smtp.connect(self._config.host, self._config.port)
            self._raise_if_aborted()
            if code != 220:
                raise smtplib.SMTPConnectError(code, "no greeting")
        except BaseException as exc:
            smtp.close()
            self._connecting = None
            if isinstance(exc, smtplib.SMTPException | OSError):
                raise ServerUnavailableError(
                    f"cannot connect to the SMTP server ({type(exc).__name__})"
                ) from exc
            raise
        return smtp

    def _set_up(self, smtp: smtplib.SMTP) -> None:
        """EHLO, STARTTLS and AUTH as configured."""
        config = self._config
        if smtp.sock is not None:
            # The end of data is a 3-byte write right after the body: without this, Nagle's
            # algorithm holds it until the server acknowledges the body (up to 40 ms).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        if config.starttls:
            if not smtp.has_extn("starttls"):
                raise ConfigurationError(
                    "REENGAGE_SMTP_STARTTLS", "the SMTP server does not offer STARTTLS"
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.username:
            if not smtp.has_extn("auth"):
                hint = "" if config.starttls else "; it may offer one over REENGAGE_SMTP_STARTTLS"
                raise ConfigurationError(
                    "REENGAGE_SMTP_USERNAME", f"the SMTP server offers no login (AUTH){hint}"
                )
            password = config.password.get_secret_value() if config.password else ""
            smtp.login(config.username, password)

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None


class _Smtp(smtplib.SMTP):
    """Created without a host, so `abort()` can reach it while it connects. The TCP connect
    waits CONNECT_TIMEOUT_S; every reply, the greeting too, the command timeout (servers may
    pause before greeting on purpose)."""

    def __init__(self, aborted: Callable[[], bool]) -> None:
        super().__init__(timeout=COMMAND_TIMEOUT_S)
        self._is_aborted = aborted

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # What smtplib.SMTP._get_socket does, with the connect's own timeout. `_host` is what
        # SMTP(host) records and starttls() names to TLS (SNI, certificate check).
        self._host = host
        sock = socket.create_connection((host, port), CONNECT_TIMEOUT_S, self.source_address)
        sock.settimeout(timeout)
        # Visible to abort() before the flag is read: one of the two always sees the other.
        self.sock = sock
        if self._is_aborted():
            sock.close()
            raise OSError("SMTP connection broken off for shutdown")
        return sock


class _EndOfData:
    """Writes the end of data once, when the claim's COMMIT has gone out; never raises (the
    error is kept for the reply step, which reports the outcome as unknown). Returns whether
    it was handed over: not when the sender was aborted first (`withheld`)."""

    def __init__(
        self, smtp: smtplib.SMTP, handover: threading.Lock, aborted: Callable[[], bool]
    ) -> None:
        self._smtp = smtp
        self._handover = handover
        self._aborted = aborted
        self.written = False
        self.withheld = False
        self.error: str | None = None

    def __call__(self) -> bool:
        # Decided under the lock, written outside it: abort() must be able to break a write
        # that blocks (a server that stopped reading), and it takes the lock first.
        with self._handover:
            if self.written or self.withheld:
                return self.written
            if self._aborted():
                self.withheld = True
                return False
            self.written = True
        try:
            self._smtp.send(b".\r\n")
        except (smtplib.SMTPException, OSError) as exc:
            self.error = type(exc).__name__
        return True


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 transparency: a line starting with "." gets another; CRLF line ends; the data
    ends with CRLF so that the end of data (".CRLF") starts a line of its own."""
    lines = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    stuffed = re.sub(rb"(?m)^\.", b"..", lines)
    return stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"
