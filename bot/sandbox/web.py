"""The sandbox page of `slabot demo`: a Slack-like workspace served as HTML, live over SSE.

The page shows what the sandbox's Web API holds (bot/sandbox/slack_api/): channels,
messages, threads, reactions, Block Kit cards with their buttons, ephemeral answers, files
and each person's App Home (mrkdwn as HTML: bot/sandbox/mrkdwn.py). What a person does
becomes what Slack sends an app (bot/sandbox/acts.py, through `BotLink`,
bot/sandbox/botlink.py): an Events API callback, a slash command with a `response_url` served
by the sandbox, or a `block_actions` payload, signed with the demo signing secret and POSTed
to the bot's ``/slack/events``. Live updates: the Web API reports each change, the page's
event stream (``/sandbox/stream``, server-sent events) passes it on, and the page re-reads
the parts that changed. Everything is rendered on the server with Jinja2 (autoescaped); the page's
script (static/sandbox.js) only sends, listens and swaps fragments. "Open the portal" signs in
to the bot's portal as the person picked here (bot/sandbox/signin.py).
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
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

from bot.sandbox.acts import act_routes
from bot.sandbox.botlink import BotLink
from bot.sandbox.mrkdwn import EMOJI, Mrkdwn, emoji
from bot.sandbox.signin import PERSON_COOKIE, sign_in_routes
from bot.sandbox.slack_api import BOT_USER_ID, FakeSlack
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
        *act_routes(page),
        Route("/files/{file_id}", file),
        Route("/archives/{channel}/{p}", archives),
        *sign_in_routes(page),
        Mount("/static", StaticFiles(packages=[("bot.sandbox", "static")]), name="static"),
    ])
