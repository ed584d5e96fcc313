"""A real single-node Apache Kafka (KRaft) broker on loopback, run from Maven Central's jars.

For tests, `LocalKafka` as a context manager: free ports, a temporary data dir, and a JVM that
dies with the process that started it. For `make run`, the detached broker of dev/kafka_cli.py:

    python -m dev.local_kafka fetch                       # fill the jar cache, print its path
    python -m dev.local_kafka up [--port 9092] [--data-dir .run/kafka]
    python -m dev.local_kafka status|down [--data-dir .run/kafka]
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from dev.kafka_config import (
    STARTED_MARKER,
    BrokerConfig,
    cluster_id_from_meta_properties,
    new_cluster_id,
    render_log4j2_properties,
    render_properties,
    server_properties,
)
from dev.kafka_jars import JarFetchError, MissingToolError, ensure_jars, find_java
from worker.runtime.children import die_with_parent

__all__ = [
    "BrokerStartError",
    "JarFetchError",
    "LocalKafka",
    "MissingToolError",
    "broker_answers",
    "ensure_jars",
    "find_java",
]

STARTUP_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
_BROKER_JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-Djava.awt.headless=true",
)
# The format tool runs for a second: a small heap and no optimising JIT start it fastest.
_TOOL_JVM_OPTIONS = ("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class BrokerStartError(RuntimeError):
    """The broker did not become ready; the message ends with the last lines of its logs."""


def free_loopback_ports(count: int) -> list[int]:
    """Distinct ports the kernel just handed out on 127.0.0.1 (all sockets held until the end)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False


def broker_answers(bootstrap_servers: str, timeout_s: float = 5.0) -> bool:
    """True when a Kafka broker at this address answers a DescribeCluster request."""
    from kafka import KafkaAdminClient

    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="reengage-local-kafka-probe",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except Exception:
        return False
    try:
        admin.describe_cluster()
    except Exception:
        return False
    finally:
        admin.close()
    return True


def _tail(path: Path, lines: int = 25, offset: int = 0) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class LocalKafka:
    """One KRaft broker+controller on 127.0.0.1; `start()` returns once clients are served.

    `detach=True` (the `up` command) puts the JVM in its own session and lets it outlive us;
    otherwise the JVM gets SIGTERM when this process dies, however it dies, and at exit.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        data_dir: Path | None = None,
        num_partitions: int = 1,
        extra_properties: Mapping[str, str] | None = None,
        jar_dir: Path | None = None,
        detach: bool = False,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self._requested_port = port
        self._requested_data_dir = data_dir
        self._num_partitions = num_partitions
        self._extra_properties = dict(extra_properties or {})
        self._jar_dir = jar_dir
        self._detach = detach
        self._startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._owned_data_dir: Path | None = None
        self._config: BrokerConfig | None = None
        self.data_dir: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        if self._config is None:
            raise RuntimeError("broker not started")
        return self._config.bootstrap_servers

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def log_file(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("broker not started")
        return self.data_dir / "broker.log"

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Start the broker and wait until it serves clients; returns the bootstrap address."""
        if self._process is not None:
            raise RuntimeError("broker already started")
        java = find_java()
        jar_dir = ensure_jars(self._jar_dir)
        try:
            log_offset = self._launch(java, jar_dir)
            self._wait_until_ready(log_offset)
        except BaseException:
            self.stop()  # also removes a temporary data dir
            raise
        return self.bootstrap_servers

    def _launch(self, java: str, jar_dir: Path) -> int:
        """Write the config, format storage, start the JVM; returns where its new log starts."""
        data_dir = self._prepare_data_dir()
        port, controller_port = self._choose_ports()
        config = BrokerConfig(
            port=port,
            controller_port=controller_port,
            log_dir=data_dir / "kraft",
            num_partitions=self._num_partitions,
            extra_properties=self._extra_properties,
        )
        self._config = config
        properties_file = data_dir / "server.properties"
        properties_file.write_text(render_properties(server_properties(config)), encoding="utf-8")
        log4j_file = data_dir / "log4j2.properties"
        log4j_file.write_text(render_log4j2_properties(self.log_file), encoding="utf-8")
        common = [f"-Dlog4j2.configurationFile=file:{log4j_file}", "-cp", f"{jar_dir}/*"]

        self._format_storage(java, common, properties_file, config.log_dir)
        # A reused data dir keeps its old log: only lines after this offset belong to this run.
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        command = [java, *_BROKER_JVM_OPTIONS, *common, "kafka.Kafka", str(properties_file)]
        with (data_dir / "console.log").open("ab") as console:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                start_new_session=self._detach,
                # Safe with threads: the hook only calls prctl and getppid, resolved beforehand.
                preexec_fn=None if self._detach else die_with_parent(),  # noqa: PLW1509
            )
        if not self._detach:
            atexit.register(self.stop)
        return log_offset

    def stop(self) -> None:
        """SIGTERM (Kafka's clean shutdown), SIGKILL after 15 s; safe to call more than once."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._owned_data_dir is not None:
            shutil.rmtree(self._owned_data_dir, ignore_errors=True)
            self._owned_data_dir = None

    def _prepare_data_dir(self) -> Path:
        if self._requested_data_dir is None:
            self._owned_data_dir = Path(tempfile.mkdtemp(prefix="reengage-kafka-"))
            self.data_dir = self._owned_data_dir
        else:
            self.data_dir = self._requested_data_dir.resolve()
            self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def _choose_ports(self) -> tuple[int, int]:
        if self._requested_port is None:
            port, controller_port = free_loopback_ports(2)
            return port, controller_port
        controller_port = self._requested_port
        while controller_port == self._requested_port:
            (controller_port,) = free_loopback_ports(1)
        return self._requested_port, controller_port

    def _format_storage(
        self, java: str, common: Sequence[str], properties_file: Path, log_dir: Path
    ) -> None:
        """Format the KRaft log dir once; a reused data dir keeps the cluster id it has."""
        meta = log_dir / "meta.properties"
        existing = (
            cluster_id_from_meta_properties(meta.read_text(encoding="utf-8"))
            if meta.is_file()
            else None
        )
        command = [
            java,
            *_TOOL_JVM_OPTIONS,
            *common,
            "kafka.tools.StorageTool",
            "format",
            "-c",
            str(properties_file),
            "-t",
            existing or new_cluster_id(),
            "--ignore-formatted",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise BrokerStartError(
                f"kafka storage format failed (exit {result.returncode}):\n{output}"
            )

    def _wait_until_ready(self, log_offset: int) -> None:
        assert self._process is not None and self._config is not None
        deadline = time.monotonic() + self._startup_timeout_s
        started_logged = False
        while True:
            code = self._process.poll()
            if code is not None:
                raise BrokerStartError(
                    f"kafka broker exited with code {code}{self._last_logs(log_offset)}"
                )
            if not started_logged:
                started_logged = STARTED_MARKER in _tail(
                    self.log_file, lines=10_000, offset=log_offset
                )
            if started_logged and broker_answers(self._config.bootstrap_servers):
                return
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"kafka broker not ready after {self._startup_timeout_s:.0f} s"
                    f"{self._last_logs(log_offset)}"
                )
            time.sleep(0.2)

    def _last_logs(self, log_offset: int) -> str:
        assert self.data_dir is not None
        parts = [
            f"\n--- {path}\n{text}"
            for path, text in (
                (self.log_file, _tail(self.log_file, offset=log_offset)),
                (self.data_dir / "console.log", _tail(self.data_dir / "console.log")),
            )
            if text
        ]
        return "".join(parts) or f"\n(no log output in {self.data_dir})"


if __name__ == "__main__":
    from dev.kafka_cli import main

    sys.exit(main())
