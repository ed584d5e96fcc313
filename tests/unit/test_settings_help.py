"""The settings list of `--help`, generated from the model: complete, with defaults as people
read them, and never a secret's default."""

from pydantic import SecretStr

from worker.settings import Settings
from worker.settings_help import settings_epilog, settings_help


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


def test_no_secret_default_is_shown_unless_declared_safe_to_show() -> None:
    secrets = {
        f"REENGAGE_{name.upper()}": field.default.get_secret_value()
        for name, field in Settings.model_fields.items()
        if isinstance(field.default, SecretStr)
        and "shown_default" not in (field.json_schema_extra or {})  # type: ignore[operator]
    }
    rows = {row.variable: row for row in settings_help()}
    for variable, value in secrets.items():
        assert rows[variable].default == "(secret)"
        assert value not in rows[variable].note
    assert not any(value in settings_epilog() for value in secrets.values())
    # The database URL's default is a file name, declared safe to show.
    assert rows["REENGAGE_DATABASE_URL"].default == "sqlite:///reengage.db"
