"""What `make run` runs: the whole loop on one laptop.

In order: a broker (the configured one, or the local one started here), the database schema
(`reengage migrate`), the four topics, the SMTP catcher (emails become `.eml` files), then
`reengage worker` (relay in-process) and `reengage mailer` as child processes pointed at the
catcher. Ctrl-C (or SIGTERM) stops them in reverse: the children finish their batch and exit,
the catcher closes, and the broker stops if it was started here.
"""

from __future__ import annotations

import signal
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sqlalchemy import func, select

from worker.commands import migrate as migrate_command
from worker.devrun.broker import DEFAULT_DATA_DIR, DEFAULT_PORT, ensure_broker
from worker.devrun.catcher import SmtpCatcher
from worker.devrun.mailbox import DEFAULT_MAIL_DIR
from worker.devrun.processes import Child, Supervisor
from worker.devrun.topics import ensure_topics
from worker.logs import get_logger
from worker.runtime.shutdown import Shutdown
from worker.runtime.startup import BROKER, connect_to_broker
from worker.settings import ConfigurationError, Settings
from worker.store.engine import create_store_engine
from worker.store.schema import CandidateRow

log = get_logger("reengage.devrun")

DEFAULT_SMTP_PORT = 2525
# The catcher is local: no reason to send at a production pace (unless the user set one).
LOCAL_MAIL_RATE = "50"
LOCAL_MAIL_FROM = "Reengage demo <jobs@example.com>"
READY_WAIT_S = 90.0


@dataclass(frozen=True, slots=True)
class DevRunOptions:
    mail_dir: Path = DEFAULT_MAIL_DIR
    smtp_port: int = DEFAULT_SMTP_PORT
    kafka_port: int = DEFAULT_PORT
    kafka_data_dir: Path = DEFAULT_DATA_DIR


class _Stop:
    """SIGINT/SIGTERM set a flag; the supervisor's loop does the stopping (once). The same
    signal also ends a wait for the database (`shutdown`) before any child has started."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.shutdown = Shutdown()

    def install(self) -> _Stop:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        return self

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.event.set()
        self.shutdown.request()


def run(
    options: DevRunOptions,
    settings: Settings,
    environ: Mapping[str, str],
    configured_broker: str | None,
) -> int:
    """`configured_broker` is the address the user set (environment or `.env`), if any."""
    stop = _Stop().install()
    broker = ensure_broker(
        configured_broker, port=options.kafka_port, data_dir=options.kafka_data_dir
    )
    try:
        settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap_servers})
        # Not the command's run(): that would put its signal handlers in place of ours.
        migrate_command.bring_up_to_date(settings, stop.shutdown)
        created = connect_to_broker(
            lambda: ensure_topics(settings),
            timeout_s=settings.startup_timeout_seconds,
            shutdown=stop.shutdown,
        )
        if created:
            log.info("topics created", topics=created)
        return _run_loop(options, settings, environ, stop, broker.started_here)
    finally:
        broker.stop()


def _run_loop(
    options: DevRunOptions,
    settings: Settings,
    environ: Mapping[str, str],
    stop: _Stop,
    broker_started_here: bool,
) -> int:
    worker_port = settings.http_port or _free_port()
    if not _port_is_free(worker_port):
        # The worker would exit 2 on it, after this run had taken the other one's /readyz
        # for its own and printed "ready".
        raise ConfigurationError(
            "REENGAGE_HTTP_PORT",
            f"port {worker_port} is taken (another `make run`?): stop it, or set the "
            "variable to a free port",
        )
    catcher = _start_catcher(options)
    supervisor = Supervisor()
    try:
        env = _child_env(environ, settings, catcher)
        supervisor.start(
            Child("worker", ["worker"], {**env, "REENGAGE_HTTP_PORT": str(worker_port)})
        )
        mailer_env = {**env, "REENGAGE_HTTP_PORT": str(_free_port())}
        if settings.consumer_group:
            # One group for both would mix two different subscriptions.
            mailer_env["REENGAGE_CONSUMER_GROUP"] = f"{settings.consumer_group}-mailer"
        supervisor.start(Child("mailer", ["mailer"], mailer_env))
        for child in supervisor.children:
            log.info("process started", process=child.name, pid=child.pid)
        _banner(options, settings, catcher, worker_port, broker_started_here)
        crashed = _watch(supervisor, stop, worker_port)
    finally:
        print("reengage: stopping the worker and the mailer…", flush=True)
        codes = supervisor.stop()
        catcher.stop()
    failed = {name: code for name, code in codes.items() if code != 0}
    if crashed is not None or failed:
        log.error("a process stopped unexpectedly", exit_codes=codes)
        return 1
    print(
        f"reengage: stopped ({catcher.caught} emails caught this run, in {catcher.folder})",
        flush=True,
    )
    return 0


def _watch(supervisor: Supervisor, stop: _Stop, worker_port: int) -> str | None:
    """Until Ctrl-C: returns the name of a child that exited on its own, else None."""
    ready = False
    waited = 0.0
    while not stop.event.wait(0.5):
        waited += 0.5
        child = supervisor.exited()
        if child is not None:
            return child.name
        if not ready and _ready(worker_port):
            ready = True
            print(f"reengage: ready · status page http://localhost:{worker_port}/", flush=True)
        elif not ready and waited >= READY_WAIT_S:
            log.warning("the worker is not ready yet", waited_s=waited)
            waited = 0.0
    return None


def _start_catcher(options: DevRunOptions) -> SmtpCatcher:
    try:
        return SmtpCatcher(options.mail_dir, options.smtp_port).start()
    except OSError:
        # The port is taken (another `make run`?): any free one will do, it is printed.
        return SmtpCatcher(options.mail_dir, 0).start()


def _child_env(
    environ: Mapping[str, str], settings: Settings, catcher: SmtpCatcher
) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in _CATCHER_REPLACES}
    env.update(
        {
            BROKER: settings.kafka_bootstrap_servers,
            "REENGAGE_SMTP_HOST": catcher.host,
            "REENGAGE_SMTP_PORT": str(catcher.port),
            "REENGAGE_SMTP_STARTTLS": "false",
        }
    )
    env.setdefault("REENGAGE_MAIL_RATE_PER_SECOND", LOCAL_MAIL_RATE)
    env.setdefault("REENGAGE_MAIL_FROM", LOCAL_MAIL_FROM)
    env.setdefault("REENGAGE_LOG_FORMAT", "console")
    return env


# The catcher takes plain SMTP without authentication.
_CATCHER_REPLACES = frozenset({"REENGAGE_SMTP_USERNAME", "REENGAGE_SMTP_PASSWORD"})


def _banner(
    options: DevRunOptions,
    settings: Settings,
    catcher: SmtpCatcher,
    worker_port: int,
    broker_started_here: bool,
) -> None:
    broker_note = "started here, stopped on exit" if broker_started_here else "already running"
    lines = [
        "reengage is starting: worker (with the relay) and mailer. Ctrl-C stops everything.",
        f"  broker        {settings.kafka_bootstrap_servers} ({broker_note})",
        f"  database      {_database_label(settings)}",
        f"  status page   http://localhost:{worker_port}/",
        f"  mail catcher  smtp://{catcher.host}:{catcher.port} → {catcher.folder}",
        "                (one .eml file per email; open them with any mail client)",
    ]
    if _first_start(settings):
        lines.append(
            "  first start?  run `make demo` in another terminal: it publishes a synthetic "
            "ATS data set and prints what happened"
        )
    print("\n".join(lines), flush=True)


def _database_label(settings: Settings) -> str:
    url = settings.database
    if url.get_backend_name() == "sqlite":
        return f"SQLite, {Path(url.database or '').resolve()}"
    return "PostgreSQL (REENGAGE_DATABASE_URL)"  # never the URL: it may hold a password


def _first_start(settings: Settings) -> bool:
    engine = create_store_engine(settings.database)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(CandidateRow)).scalar() == 0
    finally:
        engine.dispose()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - where the worker's HTTP server binds
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
