"""Settings: read from the environment, failing fast with every problem named."""

from __future__ import annotations

import pytest

from bot.config import SLACK_DEFAULT_API_URL, Settings, SettingsError, shown_url

VALID = {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": "shh"}


def test_minimal_environment_gets_defaults():
    settings = Settings.from_env(VALID)
    assert settings.port == 3000
    assert settings.database_url == "sqlite:///slabot.db"
    assert settings.slack_api_url == SLACK_DEFAULT_API_URL
    assert settings.socket_mode is False
    assert settings.admins == frozenset()
    assert settings.log_level == "INFO"


def test_every_missing_variable_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({})
    assert caught.value.missing == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET" in str(caught.value)
    assert "Create the Slack app" in str(caught.value)


def test_several_bad_values_are_reported_together():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**VALID, "PORT": "eighty", "LOG_LEVEL": "loud",
                           "SLACK_APP_TOKEN": "xoxb-wrong-kind"})
    problems = " | ".join(caught.value.problems)
    assert "PORT" in problems
    assert "LOG_LEVEL" in problems
    assert "SLACK_APP_TOKEN" in problems


def test_user_token_instead_of_bot_token_is_refused():
    with pytest.raises(SettingsError, match="xoxb-"):
        Settings.from_env({**VALID, "SLACK_BOT_TOKEN": "xoxp-user-token"})


def test_api_url_gets_the_trailing_slash_slack_sdk_needs():
    settings = Settings.from_env({**VALID, "SLACK_API_URL": "http://127.0.0.1:8099/api"})
    assert settings.slack_api_url == "http://127.0.0.1:8099/api/"


def test_app_token_switches_to_socket_mode_and_admins_are_a_set():
    settings = Settings.from_env({**VALID, "SLACK_APP_TOKEN": "xapp-1",
                                  "SLABOT_ADMINS": "U1, U2 U3", "PORT": "8080"})
    assert settings.socket_mode is True
    assert settings.admins == {"U1", "U2", "U3"}
    assert settings.port == 8080


def test_secrets_never_appear_in_the_printed_settings():
    settings = Settings.from_env({
        **VALID, "SLACK_SIGNING_SECRET": "topsecret", "SLACK_APP_TOKEN": "xapp-secret",
        "DATABASE_URL": "postgresql://bot:hunter2@db/slabot",
    })
    shown = repr(settings) + str(settings)
    for secret in ("xoxb-123", "topsecret", "xapp-secret", "hunter2"):
        assert secret not in shown
    assert "postgresql://bot:***@db/slabot" in shown


def test_an_at_sign_in_the_password_is_refused_without_showing_any_of_it():
    url = "postgresql://bot:hun@ter2@db.example/slabot"
    assert shown_url(url) == "postgresql://***@db.example/slabot"
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**VALID, "DATABASE_URL": url})
    message = str(caught.value)
    assert "%40" in message and "hun" not in message and "ter2" not in message
    # Written as %40, it is the password it says.
    encoded = Settings.from_env({**VALID, "DATABASE_URL": url.replace("hun@", "hun%40")})
    assert "ter2" not in repr(encoded) and "postgresql://bot:***@db.example" in repr(encoded)


def test_settings_are_frozen():
    settings = Settings.from_env(VALID)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_an_unsupported_database_url_is_named_with_the_other_problems():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**VALID, "DATABASE_URL": "foo://u:pw@x/db", "PORT": "eighty"})
    problems = " | ".join(caught.value.problems)
    assert "DATABASE_URL must be sqlite:///path.db or postgresql://" in problems
    assert "PORT" in problems
    assert "pw" not in problems


def test_host_defaults_to_every_interface_and_can_be_narrowed():
    assert Settings.from_env(VALID).host == "0.0.0.0"
    assert Settings.from_env({**VALID, "HOST": "127.0.0.1"}).host == "127.0.0.1"


def test_every_variable_read_is_documented_in_env_example():
    from pathlib import Path

    from bot.config import SchedulerSettings

    example = Path(__file__).resolve().parents[2] / ".env.example"
    documented = {line.partition("=")[0] for line in example.read_text().splitlines()
                  if line and not line.startswith("#")}
    read = {field.validation_alias for model in (Settings, SchedulerSettings)
            for field in model.model_fields.values()}
    assert read == documented
