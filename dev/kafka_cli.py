"""The detached broker of `make run`: `up`, `down`, `status` and `fetch`.

`up` keeps its data in `.run/kafka` between runs and records `broker.pid` and `bootstrap` there.
It prints the bootstrap address alone on stdout, so `$(python -m dev.local_kafka up)` works;
everything meant for people goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dev.local_kafka import (
    STOP_GRACE_S,
    BrokerStartError,
    JarFetchError,
    LocalKafka,
    MissingToolError,
    broker_answers,
    ensure_jars,
    port_is_open,
)

DEFAULT_DATA_DIR = Path(".run/kafka")
DEFAULT_PORT = 9092


def _pid_file(data_dir: Path) -> Path:
    return data_dir / "broker.pid"


def _bootstrap_file(data_dir: Path) -> Path:
    return data_dir / "bootstrap"


def _read_pid(data_dir: Path) -> int | None:
    try:
        return int(_pid_file(data_dir).read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_running_broker(pid: int) -> bool:
    """Alive, not a zombie, and (where /proc says) still a Kafka JVM rather than a reused pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return True
    try:
        # A detached broker's parent may never reap it: a zombie has exited.
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != "Z" and b"kafka.Kafka" in cmdline


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _is_running_broker(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def _say(message: str) -> None:
    print(f"local-kafka: {message}", file=sys.stderr)


def _cmd_fetch(_: argparse.Namespace) -> int:
    print(ensure_jars())
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    bootstrap = f"127.0.0.1:{args.port}"
    if port_is_open(args.port):
        if broker_answers(bootstrap):
            _say(f"a broker is already answering at {bootstrap}")
            print(bootstrap)
            return 0
        _say(f"port {args.port} is taken by something that does not answer as Kafka")
        return 1
    pid = _read_pid(data_dir)
    if pid is not None and _is_running_broker(pid):
        _say(f"broker pid {pid} already uses {data_dir} but not port {args.port}; run `down` first")
        return 1
    broker = LocalKafka(port=args.port, data_dir=data_dir, detach=True)
    try:
        broker.start()
    except (MissingToolError, JarFetchError, BrokerStartError) as exc:
        _say(str(exc))
        return 1
    assert broker.pid is not None
    _pid_file(data_dir).write_text(f"{broker.pid}\n", encoding="ascii")
    _bootstrap_file(data_dir).write_text(f"{bootstrap}\n", encoding="ascii")
    _say(f"broker pid {broker.pid} ready at {bootstrap} (data in {data_dir}; logs in broker.log)")
    print(bootstrap)
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    pid = _read_pid(data_dir)
    if pid is None:
        _say(f"no broker pid file in {data_dir}")
        return 0
    if _is_running_broker(pid):
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, STOP_GRACE_S):
            _say(f"broker pid {pid} ignored SIGTERM for {STOP_GRACE_S:.0f} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, 5.0)
        _say(f"broker pid {pid} stopped")
    else:
        _say(f"broker pid {pid} was not running")
    _pid_file(data_dir).unlink(missing_ok=True)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    pid = _read_pid(data_dir)
    if pid is None or not _is_running_broker(pid):
        print("not running")
        return 3
    try:
        bootstrap = _bootstrap_file(data_dir).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        bootstrap = ""
    if bootstrap and broker_answers(bootstrap):
        print(f"running at {bootstrap} (pid {pid})")
        return 0
    print(f"pid {pid} is running but not answering at {bootstrap or '(unknown address)'}")
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dev.local_kafka", description="The local Kafka broker of `make run`."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="fetch the broker jars into the cache").set_defaults(
        handler=_cmd_fetch
    )
    for name, handler, help_text in (
        ("up", _cmd_up, "start a detached broker (no-op if one answers at the port)"),
        ("down", _cmd_down, "stop the detached broker"),
        ("status", _cmd_status, "is the detached broker running? (exit 3 when not)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        if name == "up":
            command.add_argument("--port", type=int, default=DEFAULT_PORT)
        command.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (MissingToolError, JarFetchError) as exc:
        _say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
