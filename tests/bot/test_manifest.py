"""The app manifest and the registration lists agree: what Slack sends, something handles."""

from __future__ import annotations

from collections import defaultdict

import yaml

from bot import listeners
from bot.manifest import BOT_SCOPES, build_manifest, manifest_yaml, subscribed_event_types
from commands.ids import Action, Callback


class RecordingApp:
    """Stands in for Bolt's App: remembers what each register() attaches."""

    def __init__(self) -> None:
        self.registered: dict[str, list[str]] = defaultdict(list)

    def _record(self, kind: str, key):
        self.registered[kind].append(str(key))
        return lambda fn: fn

    def command(self, name):
        return self._record("command", name)

    def action(self, action_id):
        return self._record("action", action_id)

    def shortcut(self, callback_id):
        return self._record("shortcut", callback_id)

    def view(self, callback_id):
        return self._record("view", callback_id)

    def options(self, action_id):
        return self._record("options", action_id)

    def event(self, event_type):
        return self._record("event", event_type)


def registry() -> dict[str, list[str]]:
    """What Bolt routes, plus what the inbox applies (stored before the ack, bot/inbox.py)."""
    app = RecordingApp()
    listeners.register(app)
    app.registered["event"].extend(sorted(listeners.INBOX_EVENTS))
    app.registered["action"].extend(listeners.INBOX_ACTIONS)
    app.registered["shortcut"].extend(listeners.INBOX_SHORTCUTS)
    return app.registered


def test_every_manifest_command_is_registered_and_vice_versa():
    manifest_commands = {c["command"] for c in build_manifest()["features"]["slash_commands"]}
    assert manifest_commands == set(registry()["command"])


def test_every_message_shortcut_is_registered_and_vice_versa():
    shortcuts = {s["callback_id"] for s in build_manifest()["features"]["shortcuts"]}
    assert shortcuts == set(registry()["shortcut"]) == {Callback.TRACK_MESSAGE.value}


def test_subscribed_events_match_the_event_listeners():
    assert subscribed_event_types() == set(registry()["event"])


def test_every_card_button_has_a_listener():
    assert {a.value for a in Action} <= set(registry()["action"])


def test_nothing_is_registered_twice():
    for kind, keys in registry().items():
        assert len(keys) == len(set(keys)), f"{kind} registered twice: {keys}"


def test_slash_command_escapes_mentions_and_points_at_the_bot():
    manifest = build_manifest("https://slabot.example.org/")
    [command] = manifest["features"]["slash_commands"]
    assert command["should_escape"] is True
    assert command["url"] == "https://slabot.example.org/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == command["url"]
    assert manifest["settings"]["event_subscriptions"]["request_url"] == command["url"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_socket_mode_manifest_has_no_urls():
    manifest = build_manifest(socket_mode=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["interactivity"]


def test_scopes_cover_what_the_bot_calls():
    scopes = set(build_manifest()["oauth_config"]["scopes"]["bot"])
    # reactions, history of public and private channels, DMs, uploads, user time zones
    assert {"reactions:read", "channels:history", "groups:history", "im:write", "files:write",
            "users:read", "chat:write", "commands"} <= scopes
    assert len(scopes) == len(BOT_SCOPES)


def test_yaml_output_parses_back_to_the_same_manifest():
    assert yaml.safe_load(manifest_yaml("https://x.test")) == build_manifest("https://x.test")
