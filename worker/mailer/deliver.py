"""One requested outreach, from `pending` to a final ledger state, sending at most one email.

The order of steps is the guarantee (docs/mailer.md explains it):

1. The ledger row is read. Final: nothing to do (the caller re-publishes its status). Found in
   `sending`: its claimant died or lost its partitions after its claim's COMMIT and the end of
   data had gone out together; the server has the message unless it refused it, so it is
   resolved as `sent`, never sent again.
2. The message is composed and transferred up to, not including, the end of data.
3. The claim (`pending -> sending`) is committed, and the end of data is written as its COMMIT
   goes out (worker/mailer/handover.py), before the COMMIT's reply is read.
4. The reply is recorded: 250 `sent`; 5xx `failed`/`rejected`; 4xx: claim released, retried
   with exponential backoff (tenacity), `failed`/`retries_exhausted` after the last attempt;
   no reply: `failed`, delivery unknown.

Server and database outages before the end of data are retried in place for the retry budget
(nothing was sent, so a retry cannot duplicate); recording an outcome is retried on its own,
never by sending again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from worker.contracts.outreach import OutreachRequested
from worker.errors import TransientError
from worker.logs import get_logger
from worker.mailer import ledger
from worker.mailer.compose import Composed, Sender, UnusableAddressError, compose
from worker.mailer.handover import Handover, commit_then
from worker.mailer.ledger import LedgerEntry, MailState, OutreachKey
from worker.mailer.rate import TokenBucket
from worker.mailer.smtp import Attempt, Delivered, NotClaimed, Refused, Unknown, Unsupported
from worker.runtime.retry import retry_transient
from worker.store.engine import in_transaction

log = get_logger("reengage.mailer")

_T = TypeVar("_T")

# Transient refusals (4xx) of one message: attempts, and the backoff between them.
MAX_ATTEMPTS = 5
RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 60.0


class MailServer(Protocol):
    """The SMTP seam (worker.mailer.smtp.SmtpSender)."""

    def send(self, mail: Composed, claim: Callable[[Callable[[], bool]], bool]) -> Attempt: ...


@dataclass(frozen=True, slots=True)
class Exhausted:
    """Every attempt was refused with 4xx."""

    last: Refused


@dataclass(frozen=True, slots=True)
class Delivery:
    entry: LedgerEntry
    # True when this call brought the row to its final state; False for a row that was
    # final already (a redelivered request).
    fresh: bool


class _TryLaterError(Exception):
    def __init__(self, refused: Refused, names: Sequence[str]) -> None:
        # Logged before each retry: masked like the detail of a `failed` report.
        super().__init__(refused.reply.describe(refused.stage, names))
        self.refused = refused


class Deliverer:
    def __init__(
        self,
        *,
        engine: Engine,
        server: MailServer,
        sender: Sender,
        bucket: TokenBucket,
        claimant: str,
        idle: Callable[[float], None],
        retry_budget_s: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry_initial_s: float = RETRY_INITIAL_S,
        cancelled_meanwhile: Callable[[str], bool] = lambda _outreach_id: False,
    ) -> None:
        self._engine = engine
        self._server = server
        self._sender = sender
        self._bucket = bucket
        self._claimant = claimant
        self._idle = idle
        self._retry_budget_s = retry_budget_s
        self._now = now
        self._retry_initial_s = retry_initial_s
        # Asked right before each attempt, after the wait for the pace: the caller reads
        # ahead for cancellations that arrived since the batch was read.
        self._cancelled_meanwhile = cancelled_meanwhile

    def deliver(
        self,
        request: OutreachRequested,
        known: LedgerEntry | None = None,
        *,
        still_ours: Callable[[], bool] = lambda: True,
    ) -> Delivery | None:
        """None when another process holds the outreach's claim right now, or `still_ours`
        said no at the claim. `known` is the ledger row as the caller just read it (it may be
        stale: the claim decides). `still_ours`: whether the caller still holds the request's
        partition, asked right before each claim, after every wait that may let a rebalance
        through: past it, a mailer that lost the partition would send what its next owner
        is about to handle, and the next owner would resolve its claim as `sent` before the
        reply."""
        key = OutreachKey(
            request.outreach_id,
            request.tenant_id,
            request.job.job_id,
            request.candidate.candidate_id,
        )
        entry = known or self._retry(
            lambda: self._in_transaction(lambda c: _read_or_record(c, key, self._now())),
            "read the ledger",
        )
        if entry.is_final:
            return Delivery(entry, fresh=False)
        if entry.state is MailState.SENDING:
            return self._resolve_abandoned(entry)
        try:
            mail = compose(request, self._sender, self._now())
        except UnusableAddressError as exc:
            return self._failed(key.outreach_id, "rejected", str(exc), None)
        attempt = self._retry(lambda: self._send_with_retries(mail, still_ours), "send email")
        return self._record(mail, attempt)

    def _send_with_retries(
        self, mail: Composed, still_ours: Callable[[], bool]
    ) -> Attempt | Exhausted:
        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_exponential_jitter(
                multiplier=self._retry_initial_s, jitter=self._retry_initial_s, max=RETRY_MAX_S
            ),
            retry=retry_if_exception_type(_TryLaterError),
            sleep=self._idle,
            before_sleep=_log_refusal(mail.outreach_id),
            reraise=True,
        )
        try:
            return retrying(self._attempt_once, mail, still_ours)
        except _TryLaterError as last:
            return Exhausted(last.refused)

    def _attempt_once(self, mail: Composed, still_ours: Callable[[], bool]) -> Attempt:
        self._pace()
        if self._cancelled_meanwhile(mail.outreach_id):
            return NotClaimed()  # nothing sent: the row is `skipped` already
        claim_tried = handed_over = False
        # Checked out (and pinged) before the transfer, and given back only after the end of
        # data: the claim's UPDATE and COMMIT are all that stand between the body and its end.
        with self._engine.connect() as connection:

            def claim(write_end_of_data: Callable[[], bool]) -> bool:
                nonlocal claim_tried
                if not still_ours():
                    return False
                claim_tried = True
                transaction = connection.begin()
                try:
                    claimed = ledger.claim(
                        connection, mail.outreach_id, self._claimant, mail.message_id, self._now()
                    )
                except BaseException:
                    transaction.rollback()
                    raise
                if not claimed:
                    transaction.rollback()
                    return False

                def hand_over() -> None:
                    nonlocal handed_over
                    # Set before the write: should it fail midway, the row stays `sending`.
                    # False only when the sender held it back (a shutdown broke it off).
                    handed_over = True
                    handed_over = write_end_of_data()

                outcome = commit_then(connection, transaction, hand_over)
                if outcome is Handover.NOT_SENT:
                    raise TransientError("the claim could not be committed")
                if outcome is Handover.UNCERTAIN:
                    log.error(
                        "the claim's commit is unconfirmed; recording the outcome regardless",
                        outreach_id=mail.outreach_id,
                        end_of_data_written=handed_over,
                    )
                return True

            try:
                attempt = self._server.send(mail, claim)
            except BaseException:
                # Without the end of data nothing was delivered, so giving the claim back is
                # safe (a no-op if it never committed). After it, the row stays `sending`.
                if claim_tried and not handed_over:
                    self._retry(lambda: self._release(mail.outreach_id), "release claim")
                raise
        if isinstance(attempt, Refused) and attempt.reply.transient:
            if attempt.after_claim:
                self._retry(lambda: self._release(mail.outreach_id), "release claim")
            raise _TryLaterError(attempt, mail.names)
        return attempt

    def _record(self, mail: Composed, attempt: Attempt | Exhausted) -> Delivery | None:
        outreach_id = mail.outreach_id
        claimant = self._claimant
        match attempt:
            case Delivered():
                message_id = mail.message_id
                return self._finish(
                    outreach_id,
                    lambda c, now: ledger.mark_sent(c, outreach_id, claimant, message_id, now),
                )
            case Refused(stage=stage, reply=reply):
                holder = claimant if attempt.after_claim else None
                return self._failed(
                    outreach_id,
                    "rejected",
                    reply.describe(stage, mail.names),
                    holder,
                    message_id=mail.message_id,
                )
            case Unknown(detail=detail):
                log.error("delivery state unknown: not sending again", outreach_id=outreach_id)
                detail = f"unknown delivery state: {detail}; not sent again"
                return self._failed(outreach_id, "retries_exhausted", detail, claimant)
            case Exhausted(last=last):
                detail = last.reply.describe(last.stage, mail.names)
                return self._failed(
                    outreach_id, "retries_exhausted", detail, None, message_id=mail.message_id
                )
            case Unsupported(detail=detail):
                # Not `rejected`: that tells the worker the address is unusable, and this
                # address is fine; our server is not. Nothing was sent or claimed.
                log.error(
                    "email not sent: the SMTP server lacks what it needs", outreach_id=outreach_id
                )
                return self._failed(outreach_id, "retries_exhausted", f"not sent: {detail}", None)
            case NotClaimed():
                return self._finish(outreach_id, lambda _c, _now: False)

    def _failed(
        self,
        outreach_id: str,
        reason: str,
        detail: str,
        claimant: str | None,
        *,
        message_id: str | None = None,
    ) -> Delivery | None:
        """Record `failed`. `claimant`: the claim this process holds on the row, if any;
        `message_id` when the message went (at least partly) to the server."""
        return self._finish(
            outreach_id,
            lambda c, now: ledger.mark_failed(
                c,
                outreach_id,
                reason=reason,
                detail=detail,
                now=now,
                claimant=claimant,
                message_id=message_id,
            ),
        )

    def _resolve_abandoned(self, entry: LedgerEntry) -> Delivery | None:
        log.warning(
            "outreach found mid-send after a crash or a lost partition: its end of data went "
            "out with the claim, so it is recorded as sent and never sent again",
            outreach_id=entry.key.outreach_id,
            tenant_id=entry.key.tenant_id,
            job_id=entry.key.job_id,
        )
        return self._finish(
            entry.key.outreach_id, lambda c, _now: ledger.resolve_abandoned(c, entry)
        )

    def _finish(
        self, outreach_id: str, transition: Callable[[Connection, datetime], bool]
    ) -> Delivery | None:
        """Apply a transition and read the row back, in one transaction (retried alone)."""

        def apply(connection: Connection) -> tuple[bool, LedgerEntry | None]:
            changed = transition(connection, self._now())
            return changed, ledger.get(connection, outreach_id)

        changed, entry = self._retry(lambda: self._in_transaction(apply), "record the outcome")
        if entry is None or not entry.is_final:
            return None  # another process holds the claim; it will report the outcome
        if not changed and entry.state is not MailState.SKIPPED:
            log.warning("outreach was finished by another process", outreach_id=outreach_id)
        return Delivery(entry, fresh=changed)

    def _release(self, outreach_id: str) -> None:
        self._in_transaction(lambda c: ledger.release(c, outreach_id, self._claimant))

    def _pace(self) -> None:
        wait = self._bucket.reserve()
        if wait > 0:
            self._idle(wait)

    def _in_transaction(self, work: Callable[[Connection], _T]) -> _T:
        """One transaction, no retry: callers decide what may be retried."""
        return in_transaction(self._engine, work)

    def _retry(self, attempt: Callable[[], _T], what: str) -> _T:
        return retry_transient(attempt, budget_s=self._retry_budget_s, idle=self._idle, what=what)


def _read_or_record(connection: Connection, key: OutreachKey, now: datetime) -> LedgerEntry:
    entry = ledger.get(connection, key.outreach_id)
    if entry is None:
        ledger.record_requested(connection, key, now)
        entry = ledger.get(connection, key.outreach_id)
    assert entry is not None
    return entry


def _log_refusal(outreach_id: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "SMTP server refused for now; retrying",
            outreach_id=outreach_id,
            attempt=state.attempt_number,
            reply=str(error),
            wait_s=round(state.upcoming_sleep, 2),
        )

    return before_sleep
