"""What a person does on the sandbox page, made into what Slack sends an app: a message or
reaction as an Events API callback, `/sla` as a slash command with a ``response_url`` the
sandbox serves, a button as a ``block_actions`` payload, opening the Home tab as
``app_home_opened``. Each goes to the bot through `BotLink` (signed like Slack, POSTed to its
``/slack/events``); whatever it cannot deliver is told to the person as Slackbot would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.sandbox.botlink import API_APP_ID
from bot.sandbox.slack_api import TEAM_ID

if TYPE_CHECKING:
    from bot.sandbox.web import Room, SandboxPage


def act_routes(page: SandboxPage) -> list[Route]:
    """The page's POST endpoints: post, react, press a button, open the Home tab."""
    acts = Acts(page)
    return [
        Route("/sandbox/post", acts.post, methods=["POST"]),
        Route("/sandbox/react", acts.react, methods=["POST"]),
        Route("/sandbox/action", acts.action, methods=["POST"]),
        Route("/sandbox/home", acts.home_opened, methods=["POST"]),
    ]


class Acts:
    """A person's acts on the page, for one sandbox page."""

    def __init__(self, page: SandboxPage) -> None:
        self.page, self.sandbox = page, page.sandbox

    async def post(self, request: Request) -> Response:
        """A person posts a message (or a slash command) in a channel or thread."""
        data = await _json(request)
        me, channel = data.get("as", ""), data.get("channel", "")
        text = str(data.get("text") or "").strip()
        thread_ts = data.get("thread_ts") or None
        if me not in self.page.by_id or channel not in self.sandbox.channels:
            return JSONResponse({"ok": False, "error": "unknown person or channel"}, 400)
        if not text:
            return JSONResponse({"ok": False, "error": "type a message first"}, 400)
        if text.startswith("/"):
            return await self._slash(me, channel, text, thread_ts)
        ts = self.sandbox.next_ts()
        # What a person types reaches Slack escaped: &, < and > become entities.
        slack_text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        self.sandbox.add_message(channel, ts, me, slack_text, thread_ts)
        if channel.startswith("C"):  # the app is subscribed to message.channels only
            event: dict[str, Any] = {
                "type": "message", "channel": channel, "user": me, "text": slack_text,
                "ts": ts, "event_ts": ts, "channel_type": "channel", "team": TEAM_ID}
            if thread_ts:
                event["thread_ts"] = thread_ts
                root = self.sandbox.messages.get((channel, thread_ts)) or {}
                event["parent_user_id"] = root.get("user")
            status = await run_in_threadpool(self.page.bot.event, event)
            if status != 200:
                self._note(channel, me, f"The bot answered HTTP {status or 'nothing'} to this "
                           "message event (see the terminal).", thread_ts)
        else:
            self._note(channel, me, "slabot does not read direct messages (its manifest asks "
                       "for channel messages only); /sla commands work here.", thread_ts)
        return JSONResponse({"ok": True, "ts": ts})

    async def _slash(self, me: str, channel: str, text: str, thread_ts: str | None
                     ) -> Response:
        command, _, rest = text.partition(" ")
        if command != "/sla":
            self._note(channel, me, f"{command} is not a command in this sandbox; the app "
                       "has one: /sla (try /sla help).", thread_ts)
            return JSONResponse({"ok": True})
        name = uuid.uuid4().hex
        self.sandbox.response_targets[name] = {"channel": channel, "user": me,
                                               "thread_ts": thread_ts}
        person = self.page.by_id[me]
        channel_name = _channel_name(self.page.channels, channel)
        status = await run_in_threadpool(self.page.bot.command, {
            "token": "sandbox", "team_id": TEAM_ID, "team_domain": "sandbox",
            "channel_id": channel, "channel_name": channel_name, "user_id": me,
            "user_name": person.name, "command": command, "text": rest.strip(),
            "api_app_id": API_APP_ID, "is_enterprise_install": "false",
            "response_url": self.sandbox.response_url(name),
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        })
        if status != 200:
            self._note(channel, me, f"/sla failed: the bot answered HTTP {status or 'nothing'}.",
                       thread_ts)
        return JSONResponse({"ok": True})

    def _note(self, channel: str, me: str, text: str, thread_ts: str | None) -> None:
        """A private line from the sandbox itself (Slackbot's role in Slack)."""
        self.sandbox.add_ephemeral(channel, me, text, None, thread_ts, self.sandbox.next_ts())
        with self.sandbox._lock:
            self.sandbox.ephemerals[-1].update(user="USLACKBOT", bot_id=None, sandbox=True)

    async def react(self, request: Request) -> Response:
        """A person adds a reaction to a message."""
        data = await _json(request)
        me, channel, ts = data.get("as", ""), data.get("channel", ""), data.get("ts", "")
        name = str(data.get("name") or "").strip(":")
        if me not in self.page.by_id or not name:
            return JSONResponse({"ok": False, "error": "unknown person or reaction"}, 400)
        error = self.sandbox.add_reaction(channel, ts, me, name)
        if error:
            return JSONResponse({"ok": False, "error": error}, 400 if error != "already_reacted"
                                else 200)
        item_user = (self.sandbox.messages.get((channel, ts)) or {}).get("user")
        if channel.startswith("C"):
            await run_in_threadpool(self.page.bot.event, {
                "type": "reaction_added", "user": me, "reaction": name, "item_user": item_user,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": self.sandbox.next_ts()})
        return JSONResponse({"ok": True})

    async def action(self, request: Request) -> Response:
        """A person clicks a Block Kit button on a message (or in their App Home)."""
        data = await _json(request)
        me, channel, ts = data.get("as", ""), data.get("channel", ""), data.get("ts", "")
        if me not in self.page.by_id or not data.get("action_id"):
            return JSONResponse({"ok": False, "error": "unknown person or button"}, 400)
        person = self.page.by_id[me]
        action = {"action_id": data["action_id"], "block_id": data.get("block_id") or "",
                  "value": data.get("value") or "", "type": "button",
                  "text": {"type": "plain_text", "text": data.get("text") or ""},
                  "action_ts": f"{time.time():.6f}"}
        name = uuid.uuid4().hex
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": {"id": me, "username": person.name, "name": person.name,
                     "team_id": TEAM_ID},
            "api_app_id": API_APP_ID, "token": "sandbox",
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
            "actions": [action],
        }
        if data.get("container") == "home":
            payload["container"] = {"type": "view", "view_id": "V" + me}
            payload["view"] = {"id": "V" + me, "type": "home", **(self.sandbox.views.get(me) or {})}
        else:
            message = self.sandbox.messages.get((channel, ts))
            if message is None:
                return JSONResponse({"ok": False, "error": "message_not_found"}, 400)
            self.sandbox.response_targets[name] = {"channel": channel, "user": me,
                                                   "thread_ts": message.get("thread_ts")}
            payload.update(
                container={"type": "message", "message_ts": ts, "channel_id": channel,
                           "is_ephemeral": False},
                channel={"id": channel, "name": _channel_name(self.page.channels, channel)},
                message=dict(message), response_url=self.sandbox.response_url(name))
        status = await run_in_threadpool(self.page.bot.interaction, payload)
        if status != 200:
            self._note(channel, me, f"The bot answered HTTP {status or 'nothing'} to the "
                       "button.", None)
        return JSONResponse({"ok": True})

    async def home_opened(self, request: Request) -> Response:
        """A person opens the app's Home tab: Slack sends app_home_opened."""
        data = await _json(request)
        me = data.get("as", "")
        if me not in self.page.by_id:
            return JSONResponse({"ok": False, "error": "unknown person"}, 400)
        await run_in_threadpool(self.page.bot.event, {
            "type": "app_home_opened", "user": me, "channel": "D" + me.lstrip("U"),
            "tab": "home", "event_ts": self.sandbox.next_ts()})
        return JSONResponse({"ok": True})


def _channel_name(channels: Sequence[Room], channel_id: str) -> str:
    return next((c.name for c in channels if c.id == channel_id), "directmessage")


async def _json(request: Request) -> dict[str, str]:
    """The page's request: a JSON object of strings (anything else is left out)."""
    try:
        data = await request.json()
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}
