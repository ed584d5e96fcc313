"""The local broker's launcher without starting a broker: ids, config files, tool discovery."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from dev import kafka_cli, kafka_jars, local_kafka
from dev.kafka_config import (
    KAFKA_VERSION,
    BrokerConfig,
    cluster_id_from_meta_properties,
    new_cluster_id,
    render_log4j2_properties,
    render_properties,
    server_properties,
)
from dev.kafka_jars import MissingToolError, ensure_jars, parse_java_major
from tests.fixtures.availability import unavailable

REAL_JAVA = shutil.which("java")


def _parse_properties(text: str) -> dict[str, str]:
    parsed = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        parsed[key] = value.replace("\\n", "\n").replace("\\\\", "\\")
    return parsed


def test_cluster_id_is_22_chars_of_unpadded_url_safe_base64_of_16_bytes() -> None:
    ids = [new_cluster_id() for _ in range(500)]
    for cluster_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert not cluster_id.startswith("-")  # the format tool would read it as an option
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert len(set(ids)) == len(ids)


def test_cluster_id_is_read_back_from_meta_properties() -> None:
    meta = "#\n#Thu Nov 26 01:42:34 UTC 2026\nnode.id=1\ncluster.id=kgYgSozhS6a7Oq_qjdGm5g\n"
    assert cluster_id_from_meta_properties(meta) == "kgYgSozhS6a7Oq_qjdGm5g"
    assert cluster_id_from_meta_properties("node.id=1\n#cluster.id=x\n") is None


def test_server_properties_describe_one_loopback_node_with_a_static_quorum(tmp_path: Path) -> None:
    config = BrokerConfig(port=40001, controller_port=40002, log_dir=tmp_path / "kraft")
    properties = _parse_properties(render_properties(server_properties(config)))

    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:40002"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:40001"
    assert properties["log.dirs"] == str(tmp_path / "kraft")
    assert properties["group.initial.rebalance.delay.ms"] == "0"
    assert properties["offsets.topic.num.partitions"] == "1"
    assert properties["num.partitions"] == "1"
    assert properties["auto.create.topics.enable"] == "true"
    replication = [k for k in properties if k.endswith(("replication.factor", "min.isr"))]
    assert len(replication) == 5
    assert all(properties[k] == "1" for k in replication)
    assert config.bootstrap_servers == "127.0.0.1:40001"


def test_partitions_and_extra_properties_override_the_defaults(tmp_path: Path) -> None:
    config = BrokerConfig(
        port=1,
        controller_port=2,
        log_dir=tmp_path,
        num_partitions=6,
        extra_properties={"auto.create.topics.enable": "false", "log.retention.ms": "1000"},
    )
    properties = server_properties(config)
    assert properties["num.partitions"] == "6"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.retention.ms"] == "1000"


def test_rendered_properties_escape_backslashes_and_newlines() -> None:
    original = {"a": r"C:\kafka\data", "b": "two\nlines", "c": "x=y:z"}
    text = render_properties(original)
    assert text.count("\n") == 3
    assert _parse_properties(text) == original


def test_log4j2_config_logs_the_started_line_and_little_else(tmp_path: Path) -> None:
    log4j = _parse_properties(render_log4j2_properties(tmp_path / "broker.log"))
    assert log4j["appender.file.fileName"] == str(tmp_path / "broker.log")
    assert log4j["rootLogger.level"] == "WARN"
    raft_logger = next(k for k, v in log4j.items() if v == "kafka.server.KafkaRaftServer")
    assert log4j[raft_logger.replace(".name", ".level")] == "INFO"


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_292"', 8),
        ("Error: could not find libjava.so", None),
    ],
)
def test_java_major_version_is_parsed(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def test_pom_pins_the_version_the_launcher_caches_under() -> None:
    pom = kafka_jars.POM.read_text(encoding="utf-8")
    kafka = re.search(r"<artifactId>kafka_2\.13</artifactId>\s*<version>([^<]+)</version>", pom)
    assert kafka is not None
    assert kafka.group(1) == KAFKA_VERSION


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only this (empty) directory; no JAVA_HOME; an empty jar cache."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("REENGAGE_KAFKA_CACHE", str(tmp_path / "cache" / "lib"))
    return bin_dir


def _assert_one_line_with_alternatives(message: str) -> None:
    assert "\n" not in message
    assert "REENGAGE_KAFKA_BOOTSTRAP_SERVERS" in message
    assert "docker compose up" in message


def test_without_java_or_maven_the_error_names_both_and_the_alternatives(bare_path: Path) -> None:
    with pytest.raises(MissingToolError) as raised:
        ensure_jars()
    message = str(raised.value)
    _assert_one_line_with_alternatives(message)
    assert "java (17+) not on PATH" in message
    assert "mvn not on PATH" in message


def test_an_old_java_is_reported_with_its_version(bare_path: Path) -> None:
    fake_java = bare_path / "java"
    fake_java.write_text("#!/bin/sh\necho 'java version \"1.8.0_292\"' >&2\n")
    fake_java.chmod(fake_java.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(MissingToolError) as raised:
        kafka_jars.find_java()
    message = str(raised.value)
    _assert_one_line_with_alternatives(message)
    assert "is Java 8, Kafka" in message
    assert "needs Java 17+" in message


def test_with_java_but_no_maven_only_maven_is_missing(bare_path: Path) -> None:
    if REAL_JAVA is None:
        unavailable("java", "not on PATH")
    (bare_path / "java").symlink_to(REAL_JAVA)
    with pytest.raises(MissingToolError) as raised:
        ensure_jars()
    message = str(raised.value)
    _assert_one_line_with_alternatives(message)
    problems = re.search(r"broker: (.*); install them", message)
    assert problems is not None
    assert problems.group(1).startswith("mvn not on PATH (needed once")
    assert "java" not in problems.group(1).split("(needed once")[0]


def test_a_complete_cache_needs_neither_maven_nor_network(bare_path: Path, tmp_path: Path) -> None:
    jar_dir = tmp_path / "cache" / "lib"
    jar_dir.mkdir(parents=True)
    (jar_dir / ".complete").write_text(kafka_jars._pom_digest() + "\n")
    assert ensure_jars() == jar_dir


def test_a_cache_without_its_marker_is_not_trusted(bare_path: Path, tmp_path: Path) -> None:
    jar_dir = tmp_path / "cache" / "lib"
    jar_dir.mkdir(parents=True)
    (jar_dir / "kafka_2.13-4.3.1.jar").write_bytes(b"")  # an interrupted copy
    (jar_dir / ".complete").write_text("digest of another pom\n")
    with pytest.raises(MissingToolError):
        ensure_jars()


def test_up_reports_missing_tools_in_one_line_and_fails(
    bare_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (port,) = local_kafka.free_loopback_ports(1)
    code = kafka_cli.main(["up", "--port", str(port), "--data-dir", str(tmp_path / "data")])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    _assert_one_line_with_alternatives(captured.err.strip())


def test_status_and_down_ignore_a_pid_file_naming_another_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc to tell a broker from a reused pid")
    # Our own pid: alive, but not a Kafka JVM, as after a reboot reused the broker's pid.
    (tmp_path / "broker.pid").write_text(f"{os.getpid()}\n")
    assert kafka_cli.main(["status", "--data-dir", str(tmp_path)]) == 3
    assert kafka_cli.main(["down", "--data-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "broker.pid").exists()
    assert "was not running" in capsys.readouterr().err


def test_status_without_a_pid_file_says_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kafka_cli.main(["status", "--data-dir", str(tmp_path)]) == 3
    assert capsys.readouterr().out.strip() == "not running"


def test_free_loopback_ports_are_distinct() -> None:
    ports = local_kafka.free_loopback_ports(5)
    assert len(set(ports)) == 5
