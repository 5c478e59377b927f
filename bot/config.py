"""Settings: read once from the environment into a frozen object, failing fast and clearly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///slabot.db"
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"  # every interface: a container's port mapping needs it
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Where a person finds how to obtain the tokens; every config error points there.
SETUP_HINT = 'see README section "Create the Slack app"'


class SettingsError(ValueError):
    """The environment is missing or has invalid settings; the message names every problem."""

    def __init__(self, problems: list[str], missing: list[str]) -> None:
        self.problems = problems
        self.missing = missing
        super().__init__("; ".join(problems) + f" ({SETUP_HINT})")


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment, validated."""

    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    slack_api_url: str = SLACK_DEFAULT_API_URL
    admins: frozenset[str] = field(default_factory=frozenset)
    log_level: str = "INFO"
    portal: PortalSettings | None = None  # the web portal; None while it is off

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: the bot connects out instead of serving HTTP."""
        return bool(self.slack_app_token)

    def __repr__(self) -> str:
        # Secrets never appear in logs, even when someone logs the settings object.
        return (
            f"Settings(database_url={_redact_url(self.database_url)!r}, host={self.host!r}, "
            f"port={self.port}, "
            f"slack_api_url={self.slack_api_url!r}, socket_mode={self.socket_mode}, "
            f"admins={sorted(self.admins)!r}, log_level={self.log_level!r}, "
            f"portal={'on' if self.portal else 'off'})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from a mapping such as ``os.environ``; SettingsError names every problem."""
        env = {k: v.strip() for k, v in environ.items() if isinstance(v, str)}
        problems: list[str] = []
        required = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        missing = [name for name in required if not env.get(name)]
        if missing:
            problems.append("missing " + ", ".join(missing))
        bot_token = env.get("SLACK_BOT_TOKEN", "")
        if bot_token and not bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        app_token = env.get("SLACK_APP_TOKEN") or None
        if app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        port = DEFAULT_PORT
        if env.get("PORT"):
            try:
                port = int(env["PORT"])
                if not 0 < port < 65536:
                    raise ValueError
            except ValueError:
                problems.append(f"PORT must be a number between 1 and 65535, got {env['PORT']!r}")
        api_url = env.get("SLACK_API_URL") or SLACK_DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
        # slack_sdk joins method names onto the base URL, so it must end with a slash.
        if not api_url.endswith("/"):
            api_url += "/"
        log_level = (env.get("LOG_LEVEL") or "INFO").upper()
        if log_level not in _LOG_LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}")
        admins = frozenset(
            part for part in env.get("SLABOT_ADMINS", "").replace(",", " ").split() if part
        )
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        scheme = database_url.partition("://")[0].partition("+")[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgres"):
            problems.append("DATABASE_URL must be sqlite:///path.db or "
                            f"postgresql://user@host/db, got {_redact_url(database_url)!r}")
        portal = _portal_settings(env, api_url, problems)
        if problems:
            raise SettingsError(problems, missing)
        return cls(
            slack_bot_token=bot_token,
            slack_signing_secret=env["SLACK_SIGNING_SECRET"],
            slack_app_token=app_token,
            database_url=database_url,
            port=port,
            host=env.get("HOST") or DEFAULT_HOST,
            slack_api_url=api_url,
            admins=admins,
            log_level=log_level,
            portal=portal,
        )


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


def _portal_settings(
    env: Mapping[str, str], api_url: str, problems: list[str]
) -> PortalSettings | None:
    """The portal's settings: all four variables or none (then the portal is off)."""
    given = [name for name in PORTAL_VARIABLES if env.get(name)]
    if not given:
        return None
    if len(given) < len(PORTAL_VARIABLES):
        absent = [name for name in PORTAL_VARIABLES if name not in given]
        problems.append("the portal needs all of " + ", ".join(PORTAL_VARIABLES)
                        + "; missing " + ", ".join(absent))
        return None
    public_url = env["SLABOT_PUBLIC_URL"].rstrip("/")
    host = public_url.partition("://")[2].split("/", 1)[0].rsplit(":", 1)[0]
    if not (public_url.startswith("https://") or (
            public_url.startswith("http://") and host in _LOCAL_HOSTS)):
        problems.append("SLABOT_PUBLIC_URL must be an https:// URL (http:// only for "
                        f"localhost), got {public_url!r}")
    if len(env["SLABOT_SESSION_SECRET"]) < SESSION_SECRET_MIN:
        problems.append(f"SLABOT_SESSION_SECRET must be at least {SESSION_SECRET_MIN} "
                        "characters (try: python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(32))')")
    authorize_url = env.get("SLACK_AUTHORIZE_URL") or _authorize_url_of(api_url)
    return PortalSettings(
        client_id=env["SLACK_CLIENT_ID"],
        client_secret=env["SLACK_CLIENT_SECRET"],
        public_url=public_url,
        session_secret=env["SLABOT_SESSION_SECRET"],
        authorize_url=authorize_url,
    )


def _authorize_url_of(api_url: str) -> str:
    """Slack's OpenID authorize page on the host of SLACK_API_URL (a fake in tests)."""
    if api_url.endswith("/api/"):
        return api_url[: -len("api/")] + "openid/connect/authorize"
    return "https://slack.com/openid/connect/authorize"


def _redact_url(url: str) -> str:
    """Hide a password in a database URL (``postgresql://u:secret@h/db`` -> ``u:***@h``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
