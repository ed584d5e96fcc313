"""The settings list of `--help`, generated from the model: complete, with defaults as people
read them, and never a secret's default."""

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from worker.settings import Settings
from worker.settings_help import _help_for, settings_help


def test_every_setting_is_listed_once_in_the_models_order() -> None:
    assert [row.variable for row in settings_help()] == [
        f"REENGAGE_{name.upper()}" for name in Settings.model_fields
    ]


def test_defaults_read_as_they_are_written_in_the_environment() -> None:
    rows = {row.variable: row for row in settings_help()}
    assert rows["REENGAGE_RETRY_BUDGET_SECONDS"].default == "300"
    assert rows["REENGAGE_SMTP_STARTTLS"].default == "false"
    assert rows["REENGAGE_KAFKA_SASL_USERNAME"].default == "unset"
    assert rows["REENGAGE_LOG_FORMAT"].note == "one of json, console"
    # Unset in the model (each command has its own), shown as OPERATIONS.md writes it.
    assert rows["REENGAGE_CONSUMER_GROUP"].default == "reengage-worker"
    assert rows["REENGAGE_CONSUMER_GROUP"].note == "the mailer's is reengage-mailer"


def test_a_secrets_default_is_never_shown() -> None:
    """No setting has a secret default today; one added later must not print it."""
    field = FieldInfo.from_annotated_attribute(SecretStr, SecretStr("hunter9"))
    row = _help_for("api_token", field)
    assert row.default == "(secret)"
    assert "hunter9" not in row.note


def test_secrets_read_as_secrets_and_only_a_declared_default_is_shown() -> None:
    rows = {row.variable: row for row in settings_help()}
    for password in ("REENGAGE_KAFKA_SASL_PASSWORD", "REENGAGE_SMTP_PASSWORD"):
        assert (rows[password].default, rows[password].note.split("; ")[-1]) == ("unset", "secret")
    # The database URL's default is a file name, declared safe to show.
    assert rows["REENGAGE_DATABASE_URL"].default == "sqlite:///reengage.db"
