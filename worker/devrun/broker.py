"""The broker for `make run`: the one configured, one already answering on the local port, or
the repository's local broker (dev/local_kafka.py), started here and stopped on exit.

The local broker runs detached (its own session), so a Ctrl-C in the terminal reaches only
`make run`, which stops the worker and the mailer first and the broker last. Should `make run`
die without cleaning up, the broker keeps its pid file in the data folder: `make kafka-down`
stops it, and the next `make run` simply uses it.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker.runtime.startup import BROKER
from worker.settings import ConfigurationError

DEFAULT_PORT = 9092
DEFAULT_DATA_DIR = Path(".run/kafka")
_LOCAL_KAFKA = "dev.local_kafka"


@dataclass(frozen=True, slots=True)
class Broker:
    bootstrap_servers: str
    started_here: bool
    data_dir: Path | None = None

    def stop(self) -> None:
        """Stop the broker if this process started it (the local broker's `down`)."""
        if not self.started_here or self.data_dir is None:
            return
        subprocess.run(
            [sys.executable, "-m", _LOCAL_KAFKA, "down", "--data-dir", str(self.data_dir)],
            check=False,
        )


def ensure_broker(
    configured: str | None, *, port: int = DEFAULT_PORT, data_dir: Path = DEFAULT_DATA_DIR
) -> Broker:
    """`configured` is the bootstrap setting when the environment gives one: used as is."""
    if configured:
        return Broker(configured, started_here=False)
    bootstrap = f"127.0.0.1:{port}"
    if _port_is_open(port):
        if not _is_a_broker(bootstrap):
            raise ConfigurationError(
                BROKER,
                f"port {port} is taken by something that is not a Kafka broker: stop it, or "
                "give `make run KAFKA_PORT=<a free port>`",
            )
        return Broker(bootstrap, started_here=False)
    if importlib.util.find_spec(_LOCAL_KAFKA) is None:
        raise ConfigurationError(
            BROKER,
            f"no broker answers on port {port} and the local broker (dev/local_kafka.py) "
            "is only in a source checkout: set the variable to your cluster",
        )
    command = [sys.executable, "-m", _LOCAL_KAFKA, "up", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    # `up` prints the address on stdout and its progress on stderr (left to the terminal).
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise ConfigurationError(BROKER, "the local broker did not start (see above)")
    return Broker(result.stdout.strip() or bootstrap, started_here=True, data_dir=data_dir)


def _port_is_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _is_a_broker(bootstrap: str) -> bool:
    """Asked in Kafka's protocol, so that any other server on the port is told apart. Outside
    a source checkout (no dev/local_kafka.py) an open port is taken for a broker, as before."""
    if importlib.util.find_spec(_LOCAL_KAFKA) is None:
        return True
    answers: Callable[[str], bool] = importlib.import_module(_LOCAL_KAFKA).broker_answers
    return answers(bootstrap)
