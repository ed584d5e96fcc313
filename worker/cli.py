"""The `reengage` console script: parses arguments, loads settings, hands off to a command.

Exit codes are interface (OPERATIONS.md): 0 done, 2 configuration error (one line naming the
setting), 1 anything unexpected, after logging it.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
from collections.abc import Callable, Sequence
from typing import Any

from worker import __version__
from worker.commands import demo as demo_command
from worker.commands import dlq_replay as dlq_replay_command
from worker.commands import import_candidates as import_command
from worker.commands import mailer as mailer_command
from worker.commands import migrate as migrate_command
from worker.commands import preview as preview_command
from worker.commands import relay as relay_command
from worker.commands import schemas_export as schemas_export_command
from worker.commands import worker as worker_command
from worker.commands.arguments import parse_time
from worker.errors import FatalError
from worker.logs import configure_logging, get_logger
from worker.runtime.shutdown import AbandonedAfterFailure, Interrupted
from worker.settings import ConfigurationError, Settings, load_settings, unknown_variables
from worker.settings_help import KAFKA_CONNECTION, LOGGING, POLICY, settings_epilog

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2

Command = Callable[[argparse.Namespace, Settings], int]


class _HelpFormatter(argparse.HelpFormatter):
    """Per paragraph (texts apart by a blank line): wraps one-line ones as argparse does;
    keeps those laid out already (with line breaks, such as the settings list) as they
    are. So a text can end with the settings list after a paragraph of its own."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(
            "".join(indent + line for line in paragraph.splitlines(keepends=True))
            if "\n" in paragraph
            else super(_HelpFormatter, self)._fill_text(paragraph, width, indent)
            for paragraph in text.split("\n\n")
        )


class _Parser(argparse.ArgumentParser):
    """The parser of `reengage` and, as subparsers take their parent's class, of every
    command: one help layout throughout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _build_parser() -> argparse.ArgumentParser:
    settings_list = settings_epilog()
    parser = _Parser(
        prog="reengage",
        description=(
            "Re-engage dormant candidates when a job opens: consume ATS events from Kafka, "
            "match in the database, publish outreach through a transactional outbox. "
            "Settings come from the REENGAGE_* environment variables listed below. Exit "
            "codes: 0 done (also after SIGTERM/SIGINT), 2 a configuration error (one line "
            "naming the setting), 1 anything unexpected, 3 `dlq replay` stopped at a dead "
            "letter still invalid."
        ),
        epilog=settings_list,
    )
    parser.add_argument("--version", action="version", version=f"reengage {__version__}")
    # The long-running services list the settings too: that is where operators look.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    worker = commands.add_parser(
        "worker",
        help="consume ATS events, store, match, write the outbox (and relay it)",
        description="Consume ats.jobs, ats.candidates and reengage.outreach.status; store, "
        "match and write the outbox. Runs the relay in-process unless --no-relay.",
        epilog=settings_list,
    )
    worker.add_argument("--no-relay", action="store_true", help="do not run the outbox relay")
    worker.set_defaults(run=worker_command.run)

    relay = commands.add_parser(
        "relay",
        help="publish outbox rows to reengage.outreach",
        description="Publish the outbox to reengage.outreach from a process of its own, "
        "next to workers started with --no-relay.",
        epilog=settings_list,
    )
    relay.set_defaults(run=relay_command.run)

    mailer = commands.add_parser(
        "mailer",
        help="reference mailer: consume outreach, send email over SMTP",
        description="The reference mailer: consume reengage.outreach, send each outreach "
        "at most once over SMTP, publish the outcome to reengage.outreach.status.",
        epilog=settings_list,
    )
    mailer.set_defaults(run=mailer_command.run)

    migrate = commands.add_parser(
        "migrate",
        help="bring the database schema to the latest version",
        description="Bring the database schema (REENGAGE_DATABASE_URL) to the latest "
        "version; run once per release, before the workers.",
        epilog=settings_epilog(["database_url", "startup_timeout_seconds", *LOGGING]),
    )
    migrate.set_defaults(run=migrate_command.run)

    preview = commands.add_parser(
        "preview",
        help="dry run: who would be contacted for a stored job, and who not, and why",
        description="Dry run for one stored job: who would be contacted, ranked and with "
        "the reason, and how many candidates each rule excluded. Writes nothing. Reads the "
        "database of REENGAGE_DATABASE_URL and the REENGAGE_* policy settings (the job's own "
        "policy wins); exit 2 for a job the tenant has not opened.",
        epilog=settings_epilog(["database_url", *POLICY, *LOGGING]),
    )
    preview.add_argument("--tenant", required=True, help="tenant id")
    preview.add_argument("--job", required=True, help="job id")
    preview.add_argument(
        "--at",
        type=parse_time,
        help="reference time, RFC 3339 with an offset (default: the job's opened_at)",
    )
    preview.add_argument("--explain", metavar="CANDIDATE_ID", help="explain one candidate")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.set_defaults(run=preview_command.run)

    dlq = commands.add_parser(
        "dlq", help="dead-letter tools", description="Tools for the <topic>.dlq topics."
    )
    dlq_commands = dlq.add_subparsers(dest="dlq_command", metavar="COMMAND", required=True)
    replay = dlq_commands.add_parser(
        "replay",
        help="re-publish dead letters to their original topic after a fix",
        description="Re-publish dead letters to their original topic after a fix.",
        epilog=dlq_replay_command.EPILOG
        + "\n\n"
        + settings_epilog(
            [
                *KAFKA_CONNECTION,
                "kafka_session_timeout_ms",
                "consumer_group",
                "startup_timeout_seconds",
                *LOGGING,
            ]
        ),
    )
    replay.add_argument("--topic", required=True, help="the dead-letter topic, e.g. ats.jobs.dlq")
    replay.add_argument("--max", type=int, default=None, help="replay at most N dead letters")
    replay.add_argument(
        "--policy",
        choices=["stop-on-error", "reinsert", "drop-invalid"],
        default="stop-on-error",
        help="what to do with a dead letter that is still invalid (default: stop-on-error)",
    )
    replay.set_defaults(run=dlq_replay_command.run)

    schemas = commands.add_parser(
        "schemas", help="event contract tools", description="Tools for the event contract."
    )
    schema_commands = schemas.add_subparsers(
        dest="schemas_command", metavar="COMMAND", required=True
    )
    export = schema_commands.add_parser(
        "export",
        help="write the JSON Schemas and the AsyncAPI document",
        description="Write the events' JSON Schemas and the AsyncAPI document (the files "
        "committed in schemas/).",
    )
    export.add_argument(
        "dir", nargs="?", default="schemas", help="output folder (default: schemas)"
    )
    export.set_defaults(run=schemas_export_command.run)

    imports = commands.add_parser(
        "import-candidates",
        help="publish ats.candidate.updated events for an ATS CSV export",
        description="Publish one ats.candidate.updated event per row of an ATS's CSV "
        "export, for a first backfill, with a progress bar and a final count.",
        epilog=import_command.epilog()
        + "\n\n"
        + settings_epilog(
            [*KAFKA_CONNECTION, "topic_candidates", "startup_timeout_seconds", *LOGGING]
        ),
    )
    imports.add_argument("file", metavar="FILE.csv", help="the CSV export")
    imports.add_argument("--tenant", required=True, help="tenant id the candidates belong to")
    import_command.add_arguments(imports)
    imports.set_defaults(run=import_command.run)

    demo = commands.add_parser(
        "demo",
        help="publish a synthetic ATS data set, wait for the loop, print what happened",
        description="Publish a realistic synthetic data set (two tenants, thousands of "
        "candidates, a few job openings) as real events, wait until the worker, the relay and "
        "the mailer have handled it, and print per job the pool, who each rule excluded, the "
        "outreach requested and the emails caught. Run `make run` first.",
    )
    demo_command.add_arguments(demo)
    demo.set_defaults(run=demo_command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"reengage: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("reengage.cli")
    for name in unknown_variables():
        log.warning("unknown setting ignored", variable=name)
    for name in settings.unused_by_protocol():
        log.warning(
            "setting not used with this security protocol",
            variable=name,
            security_protocol=settings.kafka_security_protocol,
        )
    return _exit_code_of(args, settings)


def _exit_code_of(args: argparse.Namespace, settings: Settings) -> int:
    """Runs the command; what escapes it becomes the exit code OPERATIONS.md gives."""
    log = get_logger("reengage.cli")
    run: Command = args.run
    try:
        return run(args, settings)
    except ConfigurationError as exc:
        print(f"reengage: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AbandonedAfterFailure as exc:
        # The failure the signal cut short is still the command's outcome.
        log.error(
            "unexpected error, then stopped by a signal during the teardown",
            command=args.command,
            exc_info=exc.__context__,
        )
        return EXIT_UNEXPECTED
    except (Interrupted, KeyboardInterrupt):
        # Interrupted: a signal while start-up still waited for the database or the broker
        # (nothing consumed, nothing to finish). KeyboardInterrupt: a second signal abandoned
        # the batch in hand (nothing of it committed).
        log.info("stopped by a signal", command=args.command)
        return EXIT_OK
    except Exception as exc:
        _log_failure(args.command, exc)
        return EXIT_UNEXPECTED


def _log_failure(command: str, exc: Exception) -> None:
    """Inside the `except`: a stop the code decided on (FatalError: a spent retry budget, a
    record that cannot be read, an offset gone) is one line with its reason, which was
    written to be read (positions, advice; never data); anything else is a traceback."""
    log = get_logger("reengage.cli")
    if isinstance(exc, BrokenPipeError) and _stdout_gone():
        return
    if isinstance(exc, FatalError):
        log.error("stopped", command=command, error_class=type(exc).__name__, reason=str(exc))
        return
    log.exception("unexpected error", command=command)


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has gone (`reengage preview | head`),
    rather than a socket of ours: such a pipe reports an error when polled. If so, it is
    pointed at /dev/null: nothing to report on a stream nobody reads, and the interpreter's
    own flush at exit must not fail either."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        broken = any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False
    if broken:
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return broken


if __name__ == "__main__":
    sys.exit(main())
