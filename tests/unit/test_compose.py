"""No Docker engine here, so `docker compose config` cannot run: check what it would."""

from pathlib import Path

import yaml

from worker.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_loop() -> None:
    services = _compose()["services"]
    assert {"kafka", "postgres", "worker", "mailer", "mailpit", "migrate"} <= set(services)
    assert services["worker"]["command"] == ["worker"]
    assert services["mailer"]["command"] == ["mailer"]


def test_compose_configures_through_documented_settings_only() -> None:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith(ENV_PREFIX):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_compose_database_url_is_a_supported_one() -> None:
    env = _compose()["services"]["worker"]["environment"]
    assert Settings(database_url=env["REENGAGE_DATABASE_URL"]).database.drivername == (
        "postgresql+psycopg"
    )
