from pathlib import Path

import pytest

from worker.settings import ConfigurationError, Settings, load_settings, unknown_variables


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # Neither the developer's REENGAGE_* variables nor a .env file may leak into these tests.
    for name in list(__import__("os").environ):
        if name.startswith("REENGAGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_operating_interface() -> None:
    s = load_settings()
    assert s.kafka_bootstrap_servers == "localhost:9092"
    assert s.kafka_security_protocol == "PLAINTEXT"
    assert (s.topic_jobs, s.topic_candidates, s.topic_outreach, s.topic_status) == (
        "ats.jobs",
        "ats.candidates",
        "reengage.outreach",
        "reengage.outreach.status",
    )
    assert s.database_url.get_secret_value() == "sqlite:///reengage.db"
    assert (s.min_inactive_days, s.max_inactive_days, s.cooldown_days) == (180, 450, 21)
    assert (s.max_outreach, s.reverse_match_window_days) == (100, 30)
    assert s.event_source == "urn:reengage:worker"
    assert s.http_port == 8000
    assert (s.log_level, s.log_format) == ("INFO", "json")
    assert s.group_for("worker") == "reengage-worker"
    assert s.group_for("mailer") == "reengage-mailer"


def test_log_level_and_format_ignore_case(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_LOG_LEVEL", "debug")
    monkeypatch.setenv("REENGAGE_LOG_FORMAT", "Console")
    s = load_settings()
    assert (s.log_level, s.log_format) == ("DEBUG", "console")


def test_kafka_s_protocol_and_mechanism_names_ignore_case(monkeypatch) -> None:
    """As Kafka's own clients read them."""
    monkeypatch.setenv("REENGAGE_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_MECHANISM", "scram-sha-256")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_USERNAME", "reengage")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_PASSWORD", "s3cret")
    s = load_settings()
    assert (s.kafka_security_protocol, s.kafka_sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")


def test_consumer_group_setting_overrides_the_command_default(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_CONSUMER_GROUP", "team-a")
    assert load_settings().group_for("mailer") == "team-a"


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("REENGAGE_MAX_OUTREACH=7\n")
    assert load_settings().max_outreach == 7


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REENGAGE_DATABASE_URL", "nonsense"),
        ("REENGAGE_DATABASE_URL", "mysql://user:hunter2@db/reengage"),
        # No `@host`: the password stands where the port would, and is no number.
        ("REENGAGE_DATABASE_URL", "postgresql+psycopg://reengage:hunter2/db"),
        ("REENGAGE_DATABASE_URL", "postgresql+psycopg://reengage:hunter2@[::1/db"),
        ("REENGAGE_KAFKA_SECURITY_PROTOCOL", "TLS"),
        ("REENGAGE_LOG_FORMAT", "xml"),
        ("REENGAGE_HTTP_PORT", "eighty"),
        ("REENGAGE_HTTP_PORT", "70000"),
        ("REENGAGE_MAX_OUTREACH", "-1"),
        ("REENGAGE_MAIL_RATE_PER_SECOND", "-5"),
        ("REENGAGE_TOPIC_JOBS", "bad topic"),
        ("REENGAGE_SMTP_STARTTLS", "perhaps"),
        ("REENGAGE_KAFKA_BOOTSTRAP_SERVERS", "localhost:notaport"),
        ("REENGAGE_MAIL_JOB_BOARD_URL", "https:///"),  # no host: a link to nowhere in every email
        ("REENGAGE_MAIL_JOB_BOARD_URL", "https://?jobs"),
        ("REENGAGE_MAIL_JOB_BOARD_URL", "ftp://jobs.acme.example/"),
        ("REENGAGE_MAIL_JOB_BOARD_URL", "https://jobs.acme.example/a b"),
        ("REENGAGE_MAIL_UNSUBSCRIBE_URL", "https:///u/{candidate_id}"),
        ("REENGAGE_MAIL_UNSUBSCRIBE_URL", "javascript:alert(1)"),
    ],
)
def test_a_bad_value_names_the_variable_and_not_the_value(monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
    assert value not in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "value",
    [
        "localhost:notaport",
        "localhost",
        "localhost:0",
        "localhost:65536",
        "broker-1:9092,",
        "broker-1:9092,,broker-2:9092",
        "",
        "::1:9092",
        "[not-an-address]:9092",
        "[::1]",
        "-broker:9092",
        "broker one:9092",
        "PLAINTEXT://broker:9092",
    ],
)
def test_a_bad_bootstrap_list_names_the_variable(monkeypatch, value) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_BOOTSTRAP_SERVERS", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "REENGAGE_KAFKA_BOOTSTRAP_SERVERS"
    assert "host:port" in caught.value.problem
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("localhost:9092", "localhost:9092"),
        ("broker-1.internal:9092,10.0.0.7:9093", "broker-1.internal:9092,10.0.0.7:9093"),
        ("[::1]:9092", "[::1]:9092"),
        ("[2001:db8::7]:9093, kafka_1:1", "[2001:db8::7]:9093,kafka_1:1"),
        (" broker:65535 ", "broker:65535"),
    ],
)
def test_a_bootstrap_list_of_host_port_pairs_is_accepted(monkeypatch, value, kept) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_BOOTSTRAP_SERVERS", value)
    assert load_settings().kafka_bootstrap_servers == kept


def test_a_topic_leaves_room_for_its_dead_letter_topic(monkeypatch) -> None:
    """Kafka allows 249 characters; `<topic>.dlq` must fit too."""
    monkeypatch.setenv("REENGAGE_TOPIC_CANDIDATES", "c" * 245)
    assert len(load_settings().topic_candidates + ".dlq") == 249
    monkeypatch.setenv("REENGAGE_TOPIC_CANDIDATES", "c" * 246)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert "REENGAGE_TOPIC_CANDIDATES" in str(raised.value)


@pytest.mark.parametrize("value", ["/nonexistent/ca.pem", "", "/"])
def test_a_ca_file_that_is_not_a_file_names_the_variable(monkeypatch, value) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_SSL_CAFILE", value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert "REENGAGE_KAFKA_SSL_CAFILE" in str(raised.value)


def test_a_ca_file_with_a_certificate_is_taken(monkeypatch) -> None:
    # A self-signed certificate made for these tests (openssl req -x509, prime256v1).
    ca = Path(__file__).parents[1] / "fixtures" / "test-ca.pem"
    monkeypatch.setenv("REENGAGE_KAFKA_SSL_CAFILE", str(ca))
    assert load_settings().kafka_ssl_cafile == ca


@pytest.mark.parametrize("content", ["x\n", "-----BEGIN CERTIFICATE-----\n", ""])
def test_a_ca_file_without_a_certificate_names_the_variable_at_once(
    monkeypatch, tmp_path, content
) -> None:
    """Not a minute later as an unreachable broker: every TLS connection would fail."""
    ca = tmp_path / "ca.pem"
    ca.write_text(content, encoding="ascii")
    monkeypatch.setenv("REENGAGE_KAFKA_SSL_CAFILE", str(ca))
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert str(raised.value) == (
        "REENGAGE_KAFKA_SSL_CAFILE: holds no certificate this process can read (PEM)"
    )


@pytest.mark.parametrize("name", [".", ".."])
def test_a_topic_kafka_refuses_by_name_names_the_variable(monkeypatch, name) -> None:
    monkeypatch.setenv("REENGAGE_TOPIC_STATUS", name)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert str(raised.value).startswith("REENGAGE_TOPIC_STATUS: ")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"])
def test_an_in_memory_sqlite_database_is_refused(monkeypatch, url) -> None:
    """`migrate` would write a schema the worker, on another connection, never sees."""
    monkeypatch.setenv("REENGAGE_DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert str(raised.value).startswith("REENGAGE_DATABASE_URL: an in-memory SQLite")


def test_snapshot_markers_are_kept_a_week_unless_told_otherwise(monkeypatch) -> None:
    assert load_settings().dedupe_retention == __import__("datetime").timedelta(days=7)
    monkeypatch.setenv("REENGAGE_DEDUPE_RETENTION_DAYS", "0")
    assert load_settings().dedupe_retention is None  # kept for good
    monkeypatch.setenv("REENGAGE_DEDUPE_RETENTION_DAYS", "-1")
    with pytest.raises(ConfigurationError, match="REENGAGE_DEDUPE_RETENTION_DAYS"):
        load_settings()


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_smtp_host_is_refused(monkeypatch, value) -> None:
    monkeypatch.setenv("REENGAGE_SMTP_HOST", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "REENGAGE_SMTP_HOST"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REENGAGE_MAIL_JOB_BOARD_URL", "https://jobs.acme.example/"),
        ("REENGAGE_MAIL_JOB_BOARD_URL", "http://[::1]:8080/jobs?team=data#open"),
        ("REENGAGE_MAIL_JOB_BOARD_URL", "HTTPS://jobs.acme.example/"),
        ("REENGAGE_MAIL_UNSUBSCRIBE_URL", "https://acme.example/u/{tenant_id}/{candidate_id}"),
        ("REENGAGE_MAIL_UNSUBSCRIBE_URL", "mailto:unsubscribe@acme.example?subject=stop"),
    ],
)
def test_a_mail_link_with_a_host_is_taken_as_given(monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(load_settings(), variable.removeprefix("REENGAGE_").lower()) == value


def test_inactive_window_must_be_ordered(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_MIN_INACTIVE_DAYS", "200")
    monkeypatch.setenv("REENGAGE_MAX_INACTIVE_DAYS", "100")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "REENGAGE_MAX_INACTIVE_DAYS"


def test_sasl_needs_a_mechanism(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "REENGAGE_KAFKA_SASL_MECHANISM"


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "REENGAGE_KAFKA_SASL_USERNAME"),
        (
            {"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "svc"},
            "REENGAGE_KAFKA_SASL_PASSWORD",
        ),
        # Empty, as an unset variable often arrives from compose or Kubernetes.
        (
            {"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": ""},
            "REENGAGE_KAFKA_SASL_USERNAME",
        ),
        (
            {
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "KAFKA_SASL_USERNAME": "svc",
                "KAFKA_SASL_PASSWORD": " ",
            },
            "REENGAGE_KAFKA_SASL_PASSWORD",
        ),
    ],
)
def test_sasl_needs_a_user_name_and_password(monkeypatch, given, missing) -> None:
    """Else the broker's refusal would be reported a minute later as an unreachable broker."""
    monkeypatch.setenv("REENGAGE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    for name, value in given.items():
        monkeypatch.setenv(f"REENGAGE_{name}", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == missing


def test_sasl_with_a_mechanism_user_name_and_password_is_taken(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("REENGAGE_KAFKA_SASL_PASSWORD", "s3cret")
    assert load_settings().kafka_sasl_username == "svc"


_CA = str(Path(__file__).parents[1] / "fixtures" / "test-ca.pem")
_SASL = {"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}


@pytest.mark.parametrize(
    ("protocol", "given", "unused"),
    [
        (
            "PLAINTEXT",
            {"KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "s3cret"},
            ["USERNAME", "PASSWORD"],
        ),
        ("SSL", {"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SSL_CAFILE": _CA}, ["MECHANISM"]),
        ("SASL_PLAINTEXT", {**_SASL, "KAFKA_SSL_CAFILE": _CA}, ["CAFILE"]),
        ("PLAINTEXT", {"KAFKA_SASL_USERNAME": ""}, []),  # empty: as good as unset
        ("SASL_SSL", {**_SASL, "KAFKA_SSL_CAFILE": _CA}, []),
    ],
)
def test_settings_the_security_protocol_leaves_unused_are_named(
    monkeypatch, protocol, given, unused
) -> None:
    monkeypatch.setenv("REENGAGE_KAFKA_SECURITY_PROTOCOL", protocol)
    for name, value in given.items():
        monkeypatch.setenv(f"REENGAGE_{name}", value)
    named = load_settings().unused_by_protocol()
    assert [name.rsplit("_", 1)[1] for name in named] == unused
    assert all(name.startswith("REENGAGE_KAFKA_S") for name in named)


@pytest.mark.parametrize("variable", ["REENGAGE_EVENT_SOURCE", "REENGAGE_CONSUMER_GROUP"])
@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_the_event_source_and_group_must_not_be_blank(monkeypatch, variable, blank) -> None:
    monkeypatch.setenv(variable, blank)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == variable


def test_the_event_source_and_group_are_trimmed(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_EVENT_SOURCE", " urn:acme:reengage ")
    monkeypatch.setenv("REENGAGE_CONSUMER_GROUP", " acme-workers ")
    settings = load_settings()
    assert (settings.event_source, settings.group_for("worker")) == (
        "urn:acme:reengage",
        "acme-workers",
    )


def test_secrets_do_not_render(monkeypatch) -> None:
    monkeypatch.setenv("REENGAGE_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("REENGAGE_DATABASE_URL", "postgresql://u:hunter2@db/reengage")
    s = load_settings()
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.model_dump())
    assert s.database.drivername == "postgresql+psycopg"


def test_unknown_variables_are_reported_as_likely_typos() -> None:
    env = {"REENGAGE_DATABSE_URL": "x", "REENGAGE_HTTP_PORT": "1", "PATH": "/bin"}
    assert unknown_variables(env) == ["REENGAGE_DATABSE_URL"]


def test_unknown_variables_in_the_dotenv_file_are_reported_too(monkeypatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("REENGAGE_MAX_OUTREACH=7\nREENGAGE_COOLDOWN_DAYZ=3\n")
    monkeypatch.setenv("REENGAGE_HTTP_PROT", "9000")
    assert unknown_variables() == ["REENGAGE_COOLDOWN_DAYZ", "REENGAGE_HTTP_PROT"]


def test_a_dotenv_file_that_is_not_utf8_is_a_configuration_error(tmp_path) -> None:
    (tmp_path / ".env").write_bytes(b"REENGAGE_SMTP_PASSWORD=hunter2\xe9\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value) == ".env: the file is not UTF-8 text"


def test_every_documented_variable_is_a_setting() -> None:
    documented = [
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD",
        "KAFKA_SSL_CAFILE",
        "CONSUMER_GROUP",
        "TOPIC_JOBS",
        "TOPIC_CANDIDATES",
        "TOPIC_OUTREACH",
        "TOPIC_STATUS",
        "DATABASE_URL",
        "MIN_INACTIVE_DAYS",
        "MAX_INACTIVE_DAYS",
        "COOLDOWN_DAYS",
        "MAX_OUTREACH",
        "REVERSE_MATCH_WINDOW_DAYS",
        "EVENT_SOURCE",
        "HTTP_PORT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "SMTP_STARTTLS",
        "MAIL_FROM",
        "MAIL_RATE_PER_SECOND",
    ]
    assert {name.lower() for name in documented} <= set(Settings.model_fields)


def test_a_dotenv_line_that_is_not_a_setting_names_its_line_not_its_text(tmp_path) -> None:
    (tmp_path / ".env").write_text(
        "# reengage\nREENGAGE_MAX_OUTREACH=7\n\nREENGAGE_SMTP_PASSWORD hunter2\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value) == ".env: line 4 is not NAME=value"


def test_a_dotenv_file_with_comments_exports_and_quotes_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text(
        "# a comment\nexport REENGAGE_MAX_OUTREACH=7\nREENGAGE_EVENT_SOURCE='urn:x:y' # why\n"
    )
    settings = load_settings()
    assert (settings.max_outreach, settings.event_source) == (7, "urn:x:y")
