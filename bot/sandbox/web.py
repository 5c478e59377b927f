"""The sandbox page of `slabot demo`: a Slack-like workspace served as HTML, live over SSE.

The page shows what the sandbox's Web API holds (bot/sandbox/slack_api/): channels,
messages, threads, reactions, Block Kit cards with their buttons, ephemeral answers, files
and each person's App Home (mrkdwn as HTML: bot/sandbox/mrkdwn.py). What a person does
becomes what Slack sends an app (`BotLink`, bot/sandbox/botlink.py):
an Events API callback, a slash command with a `response_url` served by the sandbox, or a
`block_actions` payload, signed with the demo signing secret and POSTed to the bot's
``/slack/events``. Live updates: the Web API reports each change, the page's event stream
(``/sandbox/stream``, server-sent events) passes it on, and the page re-reads the parts
that changed. Everything is rendered on the server with Jinja2 (autoescaped); the page's
script (static/sandbox.js) only sends, listens and swaps fragments. "Open the portal" signs in
to the bot's portal as the person picked here (bot/sandbox/signin.py).
"""

from __future__ import annotations

import asyncio
import html
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.sandbox.botlink import API_APP_ID, BotLink
from bot.sandbox.mrkdwn import EMOJI, Mrkdwn, emoji
from bot.sandbox.signin import PERSON_COOKIE, sign_in_routes
from bot.sandbox.slack_api import BOT_USER_ID, TEAM_ID, FakeSlack
from bot.sandbox.slack_api.records import ts_key

REACTIONS = ("eyes", "white_check_mark", "ticket")


class Member(Protocol):
    """A person of the sandbox workspace (bot/sandbox/demo.py's `Person`)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def pickable(self) -> bool: ...


class Room(Protocol):
    """A channel of the sandbox workspace (bot/sandbox/demo.py's `Channel`)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass
class SandboxPage:
    """What the page needs: the sandbox, who is in it and how to reach the bot."""

    sandbox: FakeSlack
    people: Sequence[Member]
    channels: Sequence[Room]
    bot: BotLink
    tracked: str
    portal_url: str  # the bot's base URL: its portal signs in through this page
    _streams: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = field(
        default_factory=set)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.people}
        self.env = Environment(loader=PackageLoader("bot.sandbox", "templates"),
                               autoescape=select_autoescape(default=True))
        names = {p.id: p.name for p in self.people} | {BOT_USER_ID: "slabot"}
        channel_names = {c.id: c.name for c in self.channels} | {
            "D" + p.id.lstrip("U"): f"{p.name} (direct messages)" for p in self.people}
        self.mrkdwn = Mrkdwn(names, channel_names, lambda c: f"/?c={c}")
        self.env.filters["mrkdwn"] = self.mrkdwn
        self.env.filters["emoji"] = lambda text: Markup(emoji(html.escape(str(text or ""))))
        self.env.filters["clock"] = _clock
        self.env.filters["iso"] = _iso
        self.env.globals.update(EMOJI=EMOJI, REACTIONS=REACTIONS, BOT_USER_ID=BOT_USER_ID,
                                author=self.author)
        self.sandbox.on_change(self._changed)

    # ----------------------------------------------------------------- live updates
    def _changed(self, kind: str, channel: str | None) -> None:
        note = json.dumps({"kind": kind, "channel": channel})
        for loop, queue in list(self._streams):
            loop.call_soon_threadsafe(queue.put_nowait, note)

    def close_streams(self) -> None:
        """End every open event stream (the server is stopping)."""
        for loop, queue in list(self._streams):
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def stream(self, request: Request) -> Response:
        """Server-sent events: one ``change`` per change in the workspace."""
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[str | None]()
        entry = (loop, queue)
        self._streams.add(entry)

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\nevent: hello\ndata: {}\n\n"
                while True:
                    try:
                        note = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if note is None:
                        return
                    yield f"event: change\ndata: {note}\n\n"
            finally:
                self._streams.discard(entry)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    # ----------------------------------------------------------------- rendering
    def author(self, message: dict[str, Any]) -> dict[str, Any]:
        """Name, initial and whether it is the app, for a message's header."""
        if message.get("bot_id") or message.get("user") == BOT_USER_ID:
            return {"name": "slabot", "initial": "S", "app": True}
        person = self.by_id.get(message.get("user", ""))
        name = person.name.title() if person else message.get("user", "someone")
        return {"name": name, "initial": name[:1].upper(), "app": False}

    def view_of(self, request: Request) -> dict[str, Any]:
        """Who is looking at what, from the query string (unknown values fall back)."""
        q = request.query_params
        me = self.person_of(request)
        dm = "D" + me.lstrip("U")
        known = {c.id for c in self.channels} | {dm}
        channel = q.get("c") if q.get("c") in known else self.tracked
        tab = "home" if channel == dm and q.get("tab", "home") == "home" else "messages"
        thread = q.get("t") or None
        if thread and (channel, thread) not in self.sandbox.messages:
            thread = None
        return {"me": me, "dm": dm, "channel": channel, "thread": thread, "tab": tab}

    def person_of(self, request: Request) -> str:
        """``?as=``, else the person picked last (a cookie: the bot's own links and the
        portal's sign-in carry no ``as``), else the first person."""
        wanted = request.query_params.get("as") or request.cookies.get(PERSON_COOKIE)
        return wanted if wanted in self.by_id else self.people[0].id

    def _context(self, view: dict[str, Any]) -> dict[str, Any]:
        sandbox, me, channel = self.sandbox, view["me"], view["channel"]
        with sandbox._lock:
            ephemerals = [dict(e) for e in sandbox.ephemerals
                          if e["to"] == me and e["channel"] == channel]
            home = sandbox.views.get(me)
        messages = sandbox.channel_messages(channel)
        thread = sandbox.thread(channel, view["thread"]) if view["thread"] else []
        main = sorted(messages + [e for e in ephemerals if not e.get("thread_ts")],
                      key=lambda m: ts_key(m["ts"]))
        in_thread = sorted(thread + [e for e in ephemerals
                                     if view["thread"] and e.get("thread_ts") == view["thread"]],
                           key=lambda m: ts_key(m["ts"]))
        me_person = self.by_id[me]
        channel_obj = next((c for c in self.channels if c.id == channel), None)
        return {
            **view, "people": [p for p in self.people if p.pickable], "person": me_person,
            "channels": self.channels, "channel_obj": channel_obj, "tracked": self.tracked,
            "messages": main, "thread_messages": in_thread, "home": home,
            "query": lambda **kw: "/?" + urlencode({k: v for k, v in {
                "as": me, "c": channel, **kw}.items() if v}),
        }

    def render_page(self, request: Request) -> str:
        return self.env.get_template("page.html").render(self._context(self.view_of(request)))

    def render_fragments(self, request: Request) -> dict[str, str]:
        context = self._context(self.view_of(request))
        names = ("sidebar", "main", "thread")
        return {name: self.env.get_template(f"_{name}.html").render(context) for name in names}

    # ----------------------------------------------------------------- acts
    async def post(self, request: Request) -> Response:
        """A person posts a message (or a slash command) in a channel or thread."""
        data = await _json(request)
        me, channel = data.get("as", ""), data.get("channel", "")
        text = str(data.get("text") or "").strip()
        thread_ts = data.get("thread_ts") or None
        if me not in self.by_id or channel not in self.sandbox.channels:
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
            status = await run_in_threadpool(self.bot.event, event)
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
        person = self.by_id[me]
        channel_name = _channel_name(self.channels, channel)
        status = await run_in_threadpool(self.bot.command, {
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
        if me not in self.by_id or not name:
            return JSONResponse({"ok": False, "error": "unknown person or reaction"}, 400)
        error = self.sandbox.add_reaction(channel, ts, me, name)
        if error:
            return JSONResponse({"ok": False, "error": error}, 400 if error != "already_reacted"
                                else 200)
        item_user = (self.sandbox.messages.get((channel, ts)) or {}).get("user")
        if channel.startswith("C"):
            await run_in_threadpool(self.bot.event, {
                "type": "reaction_added", "user": me, "reaction": name, "item_user": item_user,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": self.sandbox.next_ts()})
        return JSONResponse({"ok": True})

    async def action(self, request: Request) -> Response:
        """A person clicks a Block Kit button on a message (or in their App Home)."""
        data = await _json(request)
        me, channel, ts = data.get("as", ""), data.get("channel", ""), data.get("ts", "")
        if me not in self.by_id or not data.get("action_id"):
            return JSONResponse({"ok": False, "error": "unknown person or button"}, 400)
        person = self.by_id[me]
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
                channel={"id": channel, "name": _channel_name(self.channels, channel)},
                message=dict(message), response_url=self.sandbox.response_url(name))
        status = await run_in_threadpool(self.bot.interaction, payload)
        if status != 200:
            self._note(channel, me, f"The bot answered HTTP {status or 'nothing'} to the "
                       "button.", None)
        return JSONResponse({"ok": True})

    async def home_opened(self, request: Request) -> Response:
        """A person opens the app's Home tab: Slack sends app_home_opened."""
        data = await _json(request)
        me = data.get("as", "")
        if me not in self.by_id:
            return JSONResponse({"ok": False, "error": "unknown person"}, 400)
        await run_in_threadpool(self.bot.event, {
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


def _clock(ts: object) -> str:
    """HH:MM UTC of a ts (the page's script shows it in the browser's zone)."""
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC).strftime("%H:%M UTC")
    except (TypeError, ValueError, OverflowError):
        return ""


def _iso(ts: object) -> str:
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


def create_sandbox_app(page: SandboxPage) -> Starlette:
    """The ASGI app of the sandbox page (see the module docstring)."""

    async def index(request: Request) -> Response:
        return HTMLResponse(page.render_page(request))

    async def fragments(request: Request) -> Response:
        return JSONResponse(page.render_fragments(request))

    async def file(request: Request) -> Response:
        content = page.sandbox.uploads.get(request.path_params["file_id"])
        if content is None:
            return Response("no such file", status_code=404, media_type="text/plain")
        kind = "image/png" if content.startswith(b"\x89PNG") else "application/octet-stream"
        return Response(content, media_type=kind)

    async def archives(request: Request) -> Response:
        # Message links (chat.getPermalink, the bot's links) open the thread in the page.
        raw = request.path_params["p"].removeprefix("p")
        ts = f"{raw[:-6]}.{raw[-6:]}" if raw.isdigit() and len(raw) > 6 else ""
        return RedirectResponse("/?" + urlencode({"c": request.path_params["channel"],
                                                  "t": ts}), status_code=303)

    return Starlette(routes=[
        Route("/", index),
        Route("/sandbox/fragments", fragments),
        Route("/sandbox/stream", page.stream),
        Route("/sandbox/post", page.post, methods=["POST"]),
        Route("/sandbox/react", page.react, methods=["POST"]),
        Route("/sandbox/action", page.action, methods=["POST"]),
        Route("/sandbox/home", page.home_opened, methods=["POST"]),
        Route("/files/{file_id}", file),
        Route("/archives/{channel}/{p}", archives),
        *sign_in_routes(page),
        Mount("/static", StaticFiles(packages=[("bot.sandbox", "static")]), name="static"),
    ])
