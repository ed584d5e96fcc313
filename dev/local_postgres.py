"""A throwaway PostgreSQL cluster from the machine's own binaries, for tests and benchmarks.

No Docker, no system service: `initdb` into a temporary directory, `pg_ctl start` on a free
port with durability switched off (the data dies with the process anyway), `pg_ctl stop` and
delete on the way out. Debian keeps the binaries in /usr/lib/postgresql/<version>/bin, which is
not on PATH and which `pg_config --bindir` may not name, so that is searched first.

`initdb` and `postgres` refuse to run as root; as root the cluster belongs to the `postgres`
system user and every command runs as that user.

    python -m dev.local_postgres        # start one, print its URL, stop on Ctrl-C
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "reengage"
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=200"
)
_START_ATTEMPTS = 3


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresStartError(RuntimeError):
    """The binaries exist but the cluster did not come up; the message carries the server log."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: highest Debian version, else PATH."""
    versions: list[tuple[int, Path]] = []
    if _DEBIAN_ROOT.is_dir():
        for entry in _DEBIAN_ROOT.iterdir():
            bindir = entry / "bin"
            if re.fullmatch(r"\d+", entry.name) and _has_server_binaries(bindir):
                versions.append((int(entry.name), bindir))
    if versions:
        return max(versions)[1]
    initdb = shutil.which("initdb")
    if initdb is not None:
        bindir = Path(initdb).resolve().parent
        if _has_server_binaries(bindir):
            return bindir
    return None


def _has_server_binaries(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class _RunAs:
    """Who runs the server: None for the current user, else the `postgres` account (as root)."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_current_user(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailableError(
                "running as root and there is no 'postgres' system user to own the cluster"
            ) from None
        return cls(account.pw_uid, account.pw_gid)

    def run(self, *command: str | Path, log: Path | None = None) -> None:
        result = subprocess.run(
            [str(part) for part in command],
            capture_output=True,
            text=True,
            check=False,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if self.uid is not None else None,
            cwd="/",
        )
        if result.returncode != 0:
            server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise PostgresStartError(
                f"{Path(command[0]).name} exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[-2000:]}\n{server_log}".strip()
            )

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


@dataclass
class LocalPostgres:
    """A running throwaway cluster. `stop()` shuts it down and deletes its files."""

    bindir: Path
    base_dir: Path
    port: int
    run_as: _RunAs

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def halt(self) -> None:
        """Stop the server but keep its files (a database outage, for fault tests)."""
        self.run_as.run(self.bindir / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a halted server again on the same port."""
        options = f"-p {self.port} -k {self.base_dir} {_SERVER_SETTINGS}"
        self.run_as.run(
            self.bindir / "pg_ctl",
            "-D",
            self.data_dir,
            "-l",
            self.log_file,
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
            log=self.log_file,
        )

    def stop(self) -> None:
        atexit.unregister(self.stop)
        with contextlib.suppress(PostgresStartError):
            self.run_as.run(self.bindir / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start(bindir: Path | None = None) -> LocalPostgres:
    """initdb + start on a free port. Raises PostgresUnavailableError when there are no binaries."""
    bindir = bindir or find_bindir()
    if bindir is None:
        raise PostgresUnavailableError(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in "
            "/usr/lib/postgresql/*/bin or on PATH; install the 'postgresql' package"
        )
    run_as = _RunAs.for_current_user()
    base_dir = Path(tempfile.mkdtemp(prefix="reengage-pg-"))
    run_as.own(base_dir)
    server = LocalPostgres(bindir, base_dir, 0, run_as)
    try:
        run_as.run(
            bindir / "initdb",
            "-D",
            server.data_dir,
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        _start_on_free_port(server)
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    # The server is a daemon (pg_ctl detaches it): stop it if the process exits without
    # reaching stop(), e.g. an interrupted test session.
    atexit.register(server.stop)
    return server


def _start_on_free_port(server: LocalPostgres) -> LocalPostgres:
    # Another process may take the port between choosing and binding it: choose again.
    for attempt in range(1, _START_ATTEMPTS + 1):
        server.port = _free_port()
        options = f"-p {server.port} -k {server.base_dir} {_SERVER_SETTINGS}"
        try:
            server.run_as.run(
                server.bindir / "pg_ctl",
                "-D",
                server.data_dir,
                "-l",
                server.log_file,
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
                log=server.log_file,
            )
            return server
        except PostgresStartError:
            if attempt == _START_ATTEMPTS:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def running(bindir: Path | None = None) -> Iterator[LocalPostgres]:
    server = start(bindir)
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    # Stopped by Ctrl-C or a plain `kill`: either way the cluster and its folder go with it.
    # A shell starts background jobs with SIGINT ignored, so its handler is put back too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with running() as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
