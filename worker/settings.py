"""Every setting the operating interface names, validated once at start-up.

Values come from `REENGAGE_*` environment variables and a `.env` file. A bad value is
reported as one line naming the variable, never echoing what was given (it may be a secret).
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Literal

from dotenv.parser import parse_stream
from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from worker.rules.model import Policy

ENV_PREFIX = "REENGAGE_"
_ENV_FILE = ".env"

# Variables our own tooling reads that are not worker settings; not typos.
_TOOLING_VARIABLES = frozenset(
    {
        "REENGAGE_TEST_DATABASE_URL",
        "REENGAGE_TEST_KAFKA_BOOTSTRAP",
        "REENGAGE_TESTCONTAINERS",
        "REENGAGE_KAFKA_CACHE",
        "REENGAGE_TEST_CRASH_AT",
        "REENGAGE_TEST_HOLD_AT",
    }
)

_SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}

# A host name (RFC 1123 labels; also IPv4), or an IPv6 address in brackets, then the port.
_HOST_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")
_BROKER = re.compile(r"^(?:\[(?P<ipv6>[^\]]+)\]|(?P<host>[^:\[\]]+)):(?P<port>[0-9]{1,5})$")
_BROKERS_EXPECTED = "expected host:port[,host:port...] (IPv6 as [addr]:port, port 1-65535)"


class ConfigurationError(Exception):
    """A setting is wrong. `str()` is one line that names the variable and not its value."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


# Kafka's topic names: 1-249 of these characters. 245 at most here, so that `<topic>.dlq`,
# where a consumed topic's dead letters go, is a legal name too.
_TOPIC = r"^[A-Za-z0-9._-]{1,245}$"
_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")


def kafka_accepts_topic_name(name: str) -> bool:
    """Kafka's rule for a topic's name (the settings allow 245 characters of it)."""
    return bool(_KAFKA_TOPIC.fullmatch(name)) and name not in {".", ".."}


# An http(s) link in printable ASCII whose authority (up to the first "/", "?" or "#") is not
# empty: "https:///" would be printed in every email as a link to nowhere. The scheme in any
# case, as RFC 3986 and `apply_url` take it.
_HTTP_URL = re.compile(r"https?://[!$-.0->@-~]+(?:[/?#][!-~]*)?", re.IGNORECASE)
_MAILTO_URL = re.compile(r"mailto:[!-~]+", re.IGNORECASE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # The mechanisms a username and password can serve (OAUTHBEARER needs a token provider,
    # which no setting supplies, so it is not offered).
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # Checked here: a missing file would otherwise look like an unreachable broker.
    kafka_ssl_cafile: FilePath | None = None
    # How long the group waits for a silent member before moving its partitions (Kafka's own
    # default); lower it to fail over faster after a crash.
    kafka_session_timeout_ms: int = Field(default=45_000, ge=6_000, le=1_800_000)

    # None means "the command's own default": reengage-worker, or reengage-mailer for the mailer.
    consumer_group: str | None = Field(
        default=None,
        min_length=1,
        max_length=249,
        description="the mailer's is reengage-mailer",
        json_schema_extra={"shown_default": "reengage-worker"},
    )

    topic_jobs: str = Field(default="ats.jobs", pattern=_TOPIC)
    topic_candidates: str = Field(default="ats.candidates", pattern=_TOPIC)
    topic_outreach: str = Field(default="reengage.outreach", pattern=_TOPIC)
    topic_status: str = Field(default="reengage.outreach.status", pattern=_TOPIC)

    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///reengage.db"),
        description="sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB; "
        "the default is reengage.db in the working folder; a secret: a value set is never shown",
        # The default holds no password, and scripts look for it in --help.
        json_schema_extra={"shown_default": "sqlite:///reengage.db"},
    )

    min_inactive_days: int = Field(default=180, ge=0, le=3650)
    max_inactive_days: int = Field(default=450, ge=0, le=3650)
    cooldown_days: int = Field(default=21, ge=0, le=3650)
    max_outreach: int = Field(default=100, ge=0, le=10000)
    reverse_match_window_days: int = Field(default=30, ge=0, le=3650)

    event_source: str = Field(default="urn:reengage:worker", min_length=1, max_length=1024)

    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    # Runtime tuning (not in the operating interface's table; documented in the README).
    batch_max_records: int = Field(default=500, ge=1, le=100_000)
    dlq_max_ratio: float = Field(default=1.0, gt=0, le=1)
    dlq_window: int = Field(default=1000, ge=1, le=1_000_000)
    retry_budget_seconds: float = Field(default=300.0, gt=0, le=86_400)
    startup_timeout_seconds: float = Field(default=60.0, gt=0, le=3_600)
    relay_sweep_seconds: float = Field(default=1.0, gt=0, le=3_600)
    # How long a job waits for other workers' partitions at most; 0: never (docs/worker.md).
    group_wait_max_seconds: float = Field(
        default=120.0, ge=0, le=86_400, description="0 decides jobs without waiting"
    )
    # How long a polled record waits for an earlier one the broker shows late (docs/worker.md).
    order_grace_ms: int = Field(
        default=100, ge=0, le=10_000, description="0 applies records as soon as they are in order"
    )
    # How long a candidate snapshot's processed marker is kept; 0: for good (docs/worker.md).
    dedupe_retention_days: int = Field(
        default=7, ge=0, le=3650, description="candidate snapshots' markers; 0 keeps them"
    )

    smtp_host: str = Field(default="localhost", min_length=1, pattern=r"\S")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # The sender, e.g. "Acme Talent <talent@acme.example>": no sensible default, the mailer
    # refuses to start without it.
    mail_from: str | None = Field(default=None, description="required by the mailer")
    mail_rate_per_second: float = Field(default=10.0, gt=0, le=10000)
    # Mailer: the link when a job has no apply_url, and the unsubscribe link (placeholders
    # {tenant_id}, {candidate_id}, {outreach_id}); see docs/mailer.md.
    mail_job_board_url: str | None = Field(default=None, max_length=2048)
    mail_unsubscribe_url: str | None = Field(default=None, max_length=200)

    # Kafka's own clients read these in any case (`sasl_ssl`, `scram-sha-256`), as the level is.
    @field_validator("log_level", "kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case_names(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        # As the level is: `JSON` or `Console` mean what they say.
        return value.lower() if isinstance(value, str) else value

    @field_validator("mail_job_board_url")
    @classmethod
    def _job_board_is_a_link(cls, value: str | None) -> str | None:
        if value is not None and not _HTTP_URL.fullmatch(value):
            raise ValueError("not an http(s) URL with a host (e.g. https://jobs.acme.example/)")
        return value

    @field_validator("mail_unsubscribe_url")
    @classmethod
    def _unsubscribe_is_a_link(cls, value: str | None) -> str | None:
        if value is not None and not (_HTTP_URL.fullmatch(value) or _MAILTO_URL.fullmatch(value)):
            raise ValueError("not an http(s) URL with a host, nor a mailto: URL")
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _brokers_are_host_port_pairs(cls, value: str) -> str:
        return ",".join(_broker_address(entry) for entry in value.split(","))

    @field_validator("topic_jobs", "topic_candidates", "topic_outreach", "topic_status")
    @classmethod
    def _topic_is_not_a_dot_name(cls, value: str) -> str:
        if not kafka_accepts_topic_name(value):  # the pattern leaves only `.` and `..`
            raise ValueError("Kafka refuses a topic named . or ..")
        return value

    @field_validator("event_source")
    @classmethod
    def _event_source_is_not_blank(cls, value: str) -> str:
        # The published events' CloudEvents `source`: half of every event's identity.
        if not value.strip():
            raise ValueError("must not be blank (e.g. urn:reengage:worker)")
        return value.strip()

    @field_validator("consumer_group")
    @classmethod
    def _group_is_not_blank(cls, value: str | None) -> str | None:
        # A group of spaces is a new group: every topic read again from its start.
        if value is not None and not value.strip():
            raise ValueError("must not be blank (unset, it is the command's own group)")
        return None if value is None else value.strip()

    @field_validator("kafka_ssl_cafile")
    @classmethod
    def _cafile_holds_certificates(cls, value: Path | None) -> Path | None:
        # Checked here for the same reason as its existence: a file the TLS library cannot
        # load would fail every connection, and read as an unreachable broker a minute later.
        if value is not None:
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=value)
            except (ssl.SSLError, OSError):
                raise ValueError("holds no certificate this process can read (PEM)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: SecretStr) -> SecretStr:
        try:
            url = make_url(value.get_secret_value())
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number, such as
            # the password of `user:password/db` (no `@host`): its text quotes it
            raise ValueError(
                "not a database URL (expected sqlite:///FILE or postgresql+psycopg://HOST/DB)"
            ) from None
        if url.drivername not in _SUPPORTED_DRIVERS:
            raise ValueError(
                "unsupported database (expected sqlite:///FILE or postgresql+psycopg://HOST/DB)"
            )
        if url.drivername.startswith("sqlite") and url.database in {None, "", ":memory:"}:
            # Each connection would get a database of its own, gone when it closes: the
            # schema `migrate` wrote would never be seen by the worker.
            raise ValueError("an in-memory SQLite database does not last: give sqlite:///FILE")
        return value

    @model_validator(mode="after")
    def _inactive_window_is_ordered(self) -> Settings:
        if self.max_inactive_days < self.min_inactive_days:
            raise ValueError("max_inactive_days: must be at least REENGAGE_MIN_INACTIVE_DAYS")
        if self.kafka_security_protocol.startswith("SASL"):
            # Every mechanism offered takes a user name and a password: without them the
            # broker's refusal would surface only as "cannot reach Kafka" a minute later.
            for name in _SASL_FIELDS:
                if not _is_given(getattr(self, name)):
                    raise ValueError(f"{name}: required with a SASL security protocol")
        return self

    @property
    def database(self) -> URL:
        """The database URL, normalised to the psycopg 3 driver for PostgreSQL."""
        url = make_url(self.database_url.get_secret_value())
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url

    @property
    def policy(self) -> Policy:
        """The deployment's matching policy; a job's own `policy` overrides parts of it."""
        return Policy(
            min_inactive_days=self.min_inactive_days,
            max_inactive_days=self.max_inactive_days,
            cooldown_days=self.cooldown_days,
            max_outreach=self.max_outreach,
            reverse_match_window_days=self.reverse_match_window_days,
        )

    @property
    def dedupe_retention(self) -> timedelta | None:
        return timedelta(days=self.dedupe_retention_days) if self.dedupe_retention_days else None

    def group_for(self, command: str) -> str:
        return self.consumer_group or f"reengage-{command}"

    def unused_by_protocol(self) -> list[str]:
        """The variables given that the security protocol leaves unused: SASL credentials
        with a protocol that sends none, a CA file without TLS. Most likely the protocol is
        what is wrong, and the connection would go out without what was meant for it."""
        protocol = self.kafka_security_protocol
        fields = [] if protocol.startswith("SASL") else list(_SASL_FIELDS)
        if not protocol.endswith("SSL"):
            fields.append("kafka_ssl_cafile")
        return [_variable_of(name) for name in fields if _is_given(getattr(self, name))]


_SASL_FIELDS = ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password")


def _is_given(value: object) -> bool:
    # An empty value is how an unset variable often arrives from compose or Kubernetes.
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _broker_address(entry: str) -> str:
    """One `host:port` of the bootstrap list, trimmed; ValueError if it is not one (checked
    here because kafka-python would only fail on it later, with a traceback)."""
    address = entry.strip()
    match = _BROKER.match(address)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError(_BROKERS_EXPECTED)
    if match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            raise ValueError(_BROKERS_EXPECTED) from None
    elif not _HOST_NAME.match(match["host"]):
        raise ValueError(_BROKERS_EXPECTED)
    return address


def _variable_of(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings() -> Settings:
    """Read and validate the settings, or raise ConfigurationError naming the first bad one."""
    _env_file_names()  # refuses a `.env` that pydantic-settings would half read
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        location = [str(part) for part in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        if not location and ": " in message:
            # A cross-field check names its field at the start of the message.
            field, _, message = message.partition(": ")
            location = [field]
        field = location[0] if location else "settings"
        raise ConfigurationError(_variable_of(field), message) from None


def _env_file_names() -> list[str]:
    """The names `.env` sets (none without the file). A line that is not `NAME=value` (or a
    comment) is a configuration error: python-dotenv would skip it with a plain-text warning,
    and the setting meant there would silently keep its default; so is a file that is not
    UTF-8. The line's number is given, never its text (it may hold a secret)."""
    if not os.path.isfile(_ENV_FILE):
        return []
    names: list[str] = []
    try:
        with open(_ENV_FILE, encoding="utf-8") as stream:
            for binding in parse_stream(stream):
                if binding.error:
                    # The parser starts an entry at the blank lines before it.
                    text = binding.original.string
                    blank = text[: len(text) - len(text.lstrip())].count("\n")
                    line = binding.original.line + blank
                    raise ConfigurationError(_ENV_FILE, f"line {line} is not NAME=value")
                if binding.key is not None:
                    names.append(binding.key)
    except UnicodeDecodeError:
        raise ConfigurationError(_ENV_FILE, "the file is not UTF-8 text") from None
    return names


def unknown_variables(environ: dict[str, str] | None = None) -> list[str]:
    """REENGAGE_* variables, in the environment or the .env file, that name no setting: most
    likely typos worth a warning."""
    known = {_variable_of(name) for name in Settings.model_fields} | _TOOLING_VARIABLES
    names = set(os.environ) | set(_env_file_names()) if environ is None else set(environ)
    return sorted(n for n in names if n.upper().startswith(ENV_PREFIX) and n.upper() not in known)
