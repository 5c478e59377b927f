"""The Slack app manifest: every scope, event, command and shortcut the bot uses.

`slabot manifest --url https://slabot.example.com` prints it as YAML; an admin pastes it at
https://api.slack.com/apps -> Create New App -> From an app manifest. A test checks it
against the registration list (bot/listeners/__init__.py).
"""

from __future__ import annotations

from typing import Any

import yaml

from commands.ids import Callback, Command

BOT_SCOPES = (
    "channels:history",   # message events in public channels (intake, replies)
    "groups:history",     # ... and in private channels the bot was invited to
    "channels:read",      # conversations.info (channel names, privacy)
    "groups:read",
    "chat:write",         # ticket cards, nudges, replies
    "chat:write.public",  # escalations into channels the bot has not joined
    "commands",           # /sla
    "reactions:read",     # :ticket:, :eyes:, :white_check_mark:
    "users:read",         # time zones and admin checks (users.info)
    "im:write",           # nudges by direct message
    "im:history",         # a retried DM nudge first checks it was not already delivered
    "files:write",        # the weekly digest chart
)
BOT_EVENTS = (
    "message.channels",
    "message.groups",
    "reaction_added",
    "app_home_opened",
)
SLASH_USAGE = "help | track | status | list | ticket SLA-42 | resolve SLA-42 | policy | hours ..."


def build_manifest(url: str | None = None, *, socket_mode: bool = False,
                   name: str = "slabot") -> dict[str, Any]:
    """The manifest as a dict; `url` is the public base URL (HTTP mode)."""
    endpoint = None if socket_mode else (url or "https://slabot.example.com").rstrip("/") + (
        "/slack/events")
    command: dict[str, Any] = {
        "command": Command.SLA.value,
        "description": "SLA tickets: track channels, status, policies, hours",
        "usage_hint": SLASH_USAGE,
        # Mentions arrive as <#C123|name> / <@U123>, so ids survive renames.
        "should_escape": True,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    if endpoint:
        command["url"] = endpoint
        interactivity["request_url"] = endpoint
        events["request_url"] = endpoint
    return {
        "display_information": {
            "name": name,
            "description": "Keeps your support SLAs: tickets, business-hours clocks, nudges",
            "background_color": "#2c2d30",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "shortcuts": [
                {
                    "name": "Track as SLA ticket",
                    "type": "message",
                    "callback_id": Callback.TRACK_MESSAGE.value,
                    "description": "Start an SLA clock for this message",
                }
            ],
            "slash_commands": [command],
        },
        "oauth_config": _oauth_config(url, socket_mode),
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


PORTAL_CALLBACK = "/portal/auth/callback"


def _oauth_config(url: str | None, socket_mode: bool) -> dict[str, Any]:
    """Bot scopes, and the portal's Sign in with Slack redirect URL when served over HTTP."""
    config: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if not socket_mode:
        base = (url or "https://slabot.example.com").rstrip("/")
        config["redirect_urls"] = [base + PORTAL_CALLBACK]
    return config


def manifest_yaml(url: str | None = None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML text, keys in a readable order."""
    return yaml.safe_dump(build_manifest(url, socket_mode=socket_mode), sort_keys=False)


def subscribed_event_types() -> set[str]:
    """Event types the manifest subscribes to (``message.channels`` counts as ``message``)."""
    return {name.split(".", 1)[0] for name in BOT_EVENTS}

