"""Pure configuration for the single-node KRaft broker: cluster ids and the two config files.

No I/O here, so the rendering is unit-tested without Java.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_VERSION = "4.3.1"
NODE_ID = 1
# The line KafkaRaftServer logs once the broker accepts clients.
STARTED_MARKER = "Kafka Server started"


def new_cluster_id() -> str:
    """A KRaft cluster id: URL-safe base64 of a random UUID's 16 bytes, no padding (22 chars).

    Kafka's own generator rejects ids starting with '-' because the CLI would read them as an
    option; so do we.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def cluster_id_from_meta_properties(text: str) -> str | None:
    """The `cluster.id` a formatted log dir records in its meta.properties, if any."""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("#", "!")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id" and value.strip():
            return value.strip()
    return None


@dataclass(frozen=True)
class BrokerConfig:
    """Everything that varies between brokers; the rest of server.properties is fixed."""

    port: int
    controller_port: int
    log_dir: Path
    num_partitions: int = 1
    extra_properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"


def server_properties(config: BrokerConfig) -> dict[str, str]:
    """server.properties as a mapping; `extra_properties` override the defaults."""
    properties = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        # Static quorum: format without --standalone.
        "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{config.controller_port}",
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{config.port},CONTROLLER://127.0.0.1:{config.controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{config.port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(config.log_dir),
        "num.partitions": str(config.num_partitions),
        "auto.create.topics.enable": "true",
        # One node: every internal topic has a single replica.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        # The default 50 partitions make the first transactional producer wait for 50 leaders.
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # The default 3 s delay before the first rebalance would slow every consumer test.
        "group.initial.rebalance.delay.ms": "0",
    }
    properties.update(config.extra_properties)
    return properties


def render_properties(properties: Mapping[str, str]) -> str:
    """Java .properties text; only backslashes and line breaks need escaping in our values."""
    lines = []
    for key, value in properties.items():
        escaped = value.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{key}={escaped}")
    return "\n".join(lines) + "\n"


def render_log4j2_properties(log_file: Path) -> str:
    """KafkaRaftServer at INFO (for the 'started' line), everything else at WARN, to one file."""
    return render_properties(
        {
            "status": "warn",
            "appender.file.type": "File",
            "appender.file.name": "FILE",
            "appender.file.fileName": str(log_file),
            "appender.file.layout.type": "PatternLayout",
            "appender.file.layout.pattern": "[%d] %p %m (%c)%n",
            "rootLogger.level": "WARN",
            "rootLogger.appenderRef.file.ref": "FILE",
            "logger.raftserver.name": "kafka.server.KafkaRaftServer",
            "logger.raftserver.level": "INFO",
        }
    )
