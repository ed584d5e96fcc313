"""The broker's jars, fetched once from Maven Central with `mvn`, and the Java that runs them.

The cache is `$REENGAGE_KAFKA_CACHE` (the jar directory itself) or
`~/.cache/reengage/kafka/<version>/lib`. A marker file holding the POM's digest is written last,
so a half-copied directory or one fetched for another POM is never mistaken for complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dev.kafka_config import KAFKA_VERSION

POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
MIN_JAVA = 17
_MARKER = ".complete"
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
_ALTERNATIVES = (
    "or point REENGAGE_KAFKA_BOOTSTRAP_SERVERS (tests: REENGAGE_TEST_KAFKA_BOOTSTRAP) "
    "at a running cluster, or run `docker compose up`"
)


class MissingToolError(RuntimeError):
    """Java 17+ or Maven is not available; `str()` is one line naming what and the alternatives."""


class JarFetchError(RuntimeError):
    """Maven ran but did not produce the jars; the message carries its output."""


def default_jar_dir() -> Path:
    configured = os.environ.get("REENGAGE_KAFKA_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "reengage" / "kafka" / KAFKA_VERSION / "lib"


def parse_java_major(version_output: str) -> int | None:
    """The major version in `java -version` output: `"17.0.15"` -> 17, `"1.8.0_292"` -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def _java_problem() -> tuple[str | None, str | None]:
    """(path to a usable java, None) or (None, what is wrong with the java we found)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate: str | None = None
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        candidate = str(Path(java_home) / "bin" / "java")
    else:
        candidate = shutil.which("java")
    if candidate is None:
        return None, "java (17+) not on PATH"
    try:
        result = subprocess.run(
            [candidate, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{candidate} does not run ({exc.__class__.__name__})"
    major = parse_java_major(result.stderr + result.stdout)
    if major is None or major < MIN_JAVA:
        found = "an unknown version" if major is None else f"Java {major}"
        return None, f"{candidate} is {found}, Kafka {KAFKA_VERSION} needs Java {MIN_JAVA}+"
    return candidate, None


def _missing_tools_message(problems: list[str]) -> str:
    return f"cannot run a local Kafka broker: {'; '.join(problems)}; install them, {_ALTERNATIVES}"


def find_java() -> str:
    """Path of a Java 17+ executable (JAVA_HOME first, then PATH), or MissingToolError."""
    java, problem = _java_problem()
    if java is None:
        raise MissingToolError(_missing_tools_message([problem or "java unusable"]))
    return java


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def jars_are_cached(jar_dir: Path) -> bool:
    marker = jar_dir / _MARKER
    return marker.is_file() and marker.read_text(encoding="ascii").strip() == _pom_digest()


def ensure_jars(jar_dir: Path | None = None) -> Path:
    """The directory holding every broker jar, fetching them with Maven unless already cached."""
    target = jar_dir if jar_dir is not None else default_jar_dir()
    if jars_are_cached(target):
        return target

    problems = []
    _, java_problem = _java_problem()
    if java_problem is not None:
        problems.append(java_problem)
    mvn = shutil.which("mvn")
    if mvn is None:
        problems.append(f"mvn not on PATH (needed once, to fetch the jars into {target})")
    if problems:
        raise MissingToolError(_missing_tools_message(problems))
    assert mvn is not None

    target.parent.mkdir(parents=True, exist_ok=True)
    # Fetch beside the target so the final rename stays on one filesystem and is atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _copy_dependencies(mvn, staging)
        (staging / _MARKER).write_text(_pom_digest() + "\n", encoding="ascii")
        staging.chmod(0o755)  # mkdtemp made it private; the cache is meant to be readable
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _copy_dependencies(mvn: str, output_dir: Path) -> None:
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(POM),
        _DEPENDENCY_PLUGIN,
        f"-DoutputDirectory={output_dir}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(output_dir.glob("kafka_2.13-*.jar")):
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise JarFetchError(
            f"mvn copy-dependencies failed (exit {result.returncode}):\n" + "\n".join(output)
        )


def _install(staging: Path, target: Path) -> None:
    """Move the fetched jars into place; a concurrent fetch that finished first wins."""
    if target.exists():
        if jars_are_cached(target):
            return
        # Incomplete or stale: set it aside first, as rename() cannot replace a non-empty dir.
        stale = Path(tempfile.mkdtemp(prefix=f".{target.name}-stale-", dir=target.parent))
        target.rename(stale / target.name)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:
        if not jars_are_cached(target):
            raise
