"""Settings: read once from the environment (pydantic-settings) into frozen objects.

Each class reads the variables of one subject by their exact names, treats a blank value as
unset, and fails with a `SettingsError` that names every problem at once. `Settings` is all
that `slabot run` needs; the smaller classes serve commands that need less (`slabot migrate`
and `report` read the database URL without Slack tokens, the scheduler its own knobs).
Only the CLI entry point loads `.env` (into the environment, which wins over the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///slabot.db"  # embedded, next to where the bot runs
SLACK_DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"  # every interface: a container's port mapping needs it
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Where a person finds how to obtain the tokens; every config error points there.
SETUP_HINT = 'see README section "Create the Slack app"'


class SettingsError(ValueError):
    """The environment is missing or has invalid settings; the message names every problem."""

    def __init__(self, problems: list[str], missing: list[str]) -> None:
        self.problems = problems
        self.missing = missing
        super().__init__("; ".join(problems) + f" ({SETUP_HINT})")


class SchedulerConfigError(ValueError):
    """A scheduler variable is not usable; the message names it (it is not a Slack matter)."""


def shown_url(url: str) -> str:
    """A database URL fit for logs and messages: its password masked, if it has one."""
    try:
        if _unencoded_at(url):
            # The URL is cut at its first '@', the rest of the password read as the host:
            # none of what comes before the last '@' is shown.
            return f"{make_url(url).drivername}://***@{url.rpartition('@')[2]}"
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # Unparsable: it may still hold a password somewhere, so none of it is shown.
        return "(not a URL of the form scheme://user@host/database)"


def _unencoded_at(url: str) -> bool:
    """More than one '@' before the path: one of them belongs to the user or password and
    must be written %40."""
    return url.partition("://")[2].partition("/")[0].count("@") > 1


class _FromEnvironment(BaseSettings):
    """Variables by their exact names; blank means unset; never changed once read."""

    # Defaults are what the code says they are: not run through the validators.
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True,
                                      validate_default=False)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read once; {name} cannot change")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read `environ` (None: this process's environment); SettingsError names every
        problem."""
        source = EnvSettingsSource(cls)
        if environ is not None:
            source.env_vars = dict(environ)  # these variables only, not os.environ's
        try:
            return cls(_build_sources=((source,), {}))
        except ValidationError as exc:
            raise _settings_error(exc) from None


def _settings_error(exc: ValidationError) -> SettingsError:
    """Our messages (raised by the validators below) from pydantic's list of errors."""
    errors = exc.errors()
    missing = [str(error["loc"][0]) for error in errors if error["type"] == "missing"]
    problems = ["missing " + ", ".join(missing)] if missing else []
    for error in errors:
        if error["type"] == "value_error":
            problems.append(str(error.get("ctx", {}).get("error")))
        elif error["type"] != "missing":
            problems.append(f"{error['loc'][0]}: {error['msg']}")
    return SettingsError(problems, missing)


class DatabaseSettings(_FromEnvironment):
    """Where the data lives (checked where it is opened: `slabot migrate` names any error)."""

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")


class SlackApiSettings(_FromEnvironment):
    """Where the Slack Web API is, and the bot's token when one is set."""

    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field(SLACK_DEFAULT_API_URL, validation_alias="SLACK_API_URL")

    @field_validator("slack_api_url")
    @classmethod
    def _http_url_with_slash(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"SLACK_API_URL must be an http(s) URL, got {url!r}")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        return url if url.endswith("/") else url + "/"


class LogSettings(_FromEnvironment):
    """How much the bot says."""

    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        level = level.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
        return level


class SchedulerSettings(_FromEnvironment):
    """The scheduler's optional knobs; None leaves the scheduler's own default."""

    instance_id: str | None = Field(None, validation_alias="SLABOT_INSTANCE_ID")
    sweep_every: timedelta | None = Field(None, validation_alias="SLABOT_SCHEDULER_SWEEP_SECONDS")
    nudge_lease: timedelta | None = Field(None, validation_alias="SLABOT_NUDGE_LEASE_SECONDS")

    @field_validator("sweep_every", "nudge_lease", mode="before")
    @classmethod
    def _positive_seconds(cls, text: object, info: ValidationInfo) -> timedelta:
        name = cls.model_fields[str(info.field_name)].validation_alias
        try:
            seconds = float(str(text))
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {text!r}")
        return timedelta(seconds=seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """As for every settings class, but the error is a SchedulerConfigError."""
        try:
            return super().from_env(environ)
        except SettingsError as exc:
            raise SchedulerConfigError("; ".join(exc.problems)) from None


# The portal: Sign in with Slack (OpenID Connect) and signed session cookies.
PORTAL_VARIABLES = (
    "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLABOT_PUBLIC_URL", "SLABOT_SESSION_SECRET",
)
SESSION_SECRET_MIN = 32
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class PortalSettings:
    """What the portal needs; present only when all four variables are set."""

    client_id: str
    client_secret: str
    public_url: str  # no trailing slash
    session_secret: str
    authorize_url: str

    @property
    def redirect_uri(self) -> str:
        """Where Slack sends people back after signing in."""
        return self.public_url + "/portal/auth/callback"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS (a plain-HTTP local URL is allowed for trying it out)."""
        return self.public_url.startswith("https://")

    def __repr__(self) -> str:
        return f"PortalSettings(public_url={self.public_url!r}, client_id={self.client_id!r})"

    __str__ = __repr__


class Settings(DatabaseSettings, SlackApiSettings, LogSettings):
    """Everything `slabot run` reads from its environment, validated."""

    slack_bot_token: str = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    port: int = Field(DEFAULT_PORT, validation_alias="PORT")
    host: str = Field(DEFAULT_HOST, validation_alias="HOST")
    # NoDecode: a comma or space separated list, not the JSON pydantic-settings expects.
    admins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias="SLABOT_ADMINS")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slabot_public_url: str | None = Field(None, validation_alias="SLABOT_PUBLIC_URL")
    slabot_session_secret: str | None = Field(None, validation_alias="SLABOT_SESSION_SECRET")
    # Last: its check sees the portal variables above (see `_portal_complete`).
    slack_authorize_url: str | None = Field(
        None, validation_alias="SLACK_AUTHORIZE_URL", validate_default=True)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, token: str) -> str:
        if not token.startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        return token

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, token: str | None) -> str | None:
        if token and not token.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        return token

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, text: object) -> int:
        try:
            port = int(str(text))
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise ValueError(f"PORT must be a number between 1 and 65535, got {text!r}")
        return port

    @field_validator("admins", mode="before")
    @classmethod
    def _user_ids(cls, text: object) -> frozenset[str]:
        return frozenset(str(text).replace(",", " ").split())

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        scheme = url.partition("://")[0].partition("+")[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("DATABASE_URL must be sqlite:///path.db or "
                             f"postgresql://user@host/db, got {shown_url(url)!r}")
        if _unencoded_at(url):
            raise ValueError("DATABASE_URL has an '@' in its user or password: write it as %40 "
                             f"({shown_url(url)})")
        return url

    @field_validator("slabot_public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        url = url.rstrip("/")
        host = url.partition("://")[2].split("/", 1)[0].rsplit(":", 1)[0]
        if not (url.startswith("https://") or (
                url.startswith("http://") and host in _LOCAL_HOSTS)):
            raise ValueError("SLABOT_PUBLIC_URL must be an https:// URL (http:// only for "
                             f"localhost), got {url!r}")
        return url

    @field_validator("slabot_session_secret")
    @classmethod
    def _session_secret(cls, secret: str | None) -> str | None:
        if secret is not None and len(secret) < SESSION_SECRET_MIN:
            raise ValueError(f"SLABOT_SESSION_SECRET must be at least {SESSION_SECRET_MIN} "
                             "characters (try: python3 -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))')")
        return secret

    @field_validator("slack_authorize_url")
    @classmethod
    def _portal_complete(cls, url: str | None, info: ValidationInfo) -> str | None:
        # A field check, not a model check: pydantic runs model checks only once every field
        # passed, and this problem is named together with the others. A variable that was
        # given but failed its own check is absent from `info.data`: it counts as given.
        fields = ("slack_client_id", "slack_client_secret", "slabot_public_url",
                  "slabot_session_secret")
        absent = [name for field, name in zip(fields, PORTAL_VARIABLES, strict=True)
                  if field in info.data and info.data[field] is None]
        if 0 < len(absent) < len(PORTAL_VARIABLES):
            raise ValueError("the portal needs all of " + ", ".join(PORTAL_VARIABLES)
                             + "; missing " + ", ".join(absent))
        return url

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: the bot connects out instead of serving HTTP."""
        return bool(self.slack_app_token)

    @property
    def portal(self) -> PortalSettings | None:
        """The web portal's settings; None while it is off (its variables are unset)."""
        if not (self.slack_client_id and self.slack_client_secret and self.slabot_public_url
                and self.slabot_session_secret):
            return None
        return PortalSettings(
            client_id=self.slack_client_id,
            client_secret=self.slack_client_secret,
            public_url=self.slabot_public_url,
            session_secret=self.slabot_session_secret,
            authorize_url=self.slack_authorize_url or _authorize_url_of(self.slack_api_url),
        )

    def __repr__(self) -> str:
        # Secrets never appear in logs, even when someone logs the settings object.
        return (
            f"Settings(database_url={shown_url(self.database_url)!r}, host={self.host!r}, "
            f"port={self.port}, "
            f"slack_api_url={self.slack_api_url!r}, socket_mode={self.socket_mode}, "
            f"admins={sorted(self.admins)!r}, log_level={self.log_level!r}, "
            f"portal={'on' if self.portal else 'off'})"
        )

    __str__ = __repr__


def _authorize_url_of(api_url: str) -> str:
    """Slack's OpenID authorize page on the host of SLACK_API_URL (a fake in tests)."""
    if api_url.endswith("/api/"):
        return api_url[: -len("api/")] + "openid/connect/authorize"
    return "https://slack.com/openid/connect/authorize"
