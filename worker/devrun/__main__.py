"""`python -m worker.devrun`: what `make run` runs (see run.py)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from worker.devrun.broker import DEFAULT_DATA_DIR, DEFAULT_PORT
from worker.devrun.mailbox import DEFAULT_MAIL_DIR
from worker.devrun.run import DEFAULT_SMTP_PORT, DevRunOptions, run
from worker.logs import configure_logging, get_logger
from worker.runtime.shutdown import Interrupted
from worker.settings import ConfigurationError, Settings, load_settings

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make run",
        description="Run the whole loop locally: broker (started unless "
        "REENGAGE_KAFKA_BOOTSTRAP_SERVERS is set, in the environment or .env, or one answers on "
        "the port), database "
        "migration, worker with relay, mailer, and an SMTP catcher writing .eml files.",
    )
    parser.add_argument(
        "--mail-dir", type=Path, default=DEFAULT_MAIL_DIR, help="where caught emails go"
    )
    parser.add_argument(
        "--smtp-port", type=int, default=DEFAULT_SMTP_PORT, help="the catcher's port (0: any)"
    )
    parser.add_argument(
        "--kafka-port", type=int, default=DEFAULT_PORT, help="the local broker's port"
    )
    parser.add_argument(
        "--kafka-data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the local broker's data"
    )
    return parser


def configured_broker(settings: Settings) -> str | None:
    """The broker address the user gave, in the environment or in `.env`; None when the
    setting is at its default, which is what lets `make run` start the local broker."""
    if "kafka_bootstrap_servers" in settings.model_fields_set:
        return settings.kafka_bootstrap_servers
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = DevRunOptions(
        mail_dir=args.mail_dir,
        smtp_port=args.smtp_port,
        kafka_port=args.kafka_port,
        kafka_data_dir=args.kafka_data_dir,
    )
    try:
        settings = load_settings()
        # For people by default, as the children's (see run.py); JSON when asked for.
        explicit = "REENGAGE_LOG_FORMAT" in os.environ
        configure_logging(settings.log_level, settings.log_format if explicit else "console")
        return run(options, settings, dict(os.environ), configured_broker(settings))
    except ConfigurationError as exc:
        print(f"reengage: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (Interrupted, KeyboardInterrupt):
        return 0  # a signal before anything started (Interrupted), or a second one
    except Exception:
        get_logger("reengage.devrun").exception("unexpected error")
        return 1


if __name__ == "__main__":
    sys.exit(main())
