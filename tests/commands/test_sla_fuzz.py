"""Fuzzing the `/sla` grammar through the real router, database and (fake) Slack.

Generated command lines (every verb and alias, sub-verbs, argument shapes, unicode, huge
numbers, Slack markup) go through the `/sla` listener's `answer` (router, verbs, views) with
real `Deps`: no exception
escapes, every reply is at most 3,000 characters (text and each block), and no reply carries
markup a person typed (`<!channel>`, `<!here>`, a user group, a disguised link, a bare `&`).

The default run tries 300 command lines; set `SLA_FUZZ_EXAMPLES=10000` for the issue's
10,000 (or any other count), e.g. `SLA_FUZZ_EXAMPLES=10000 pytest tests/commands/test_sla_fuzz.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.listeners.sla_command import answer, sla_router
from bot.sandbox.slack_api import TEAM_ID
from commands import intake
from commands.deps import Deps, ThreadUnitOfWork
from commands.slack_notifier import SlackNotifier, build_client
from commands.text import MAX_REPLY_CHARS
from tests.clocks import FixedClock
from tests.closing import running_fake_slack
from tests.hostile_text import HOSTILE, assert_ampersands_escaped, user_markup_in

EXAMPLES = int(os.environ.get("SLA_FUZZ_EXAMPLES", "300"))
TOKEN = "xoxb-fuzz"
CHANNEL, ADMIN, AGENT = "C0SUPPORT", "UADMIN", "UAGENT"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ROUTER = sla_router()
VERB_NAMES = sorted({name for verb in ROUTER.verbs for name in (verb.name, *verb.aliases)})

MARKUP = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S1|team>",
          "<https://evil.example|click>", "<https://evil.example>", "&", "&amp;", "&lt;!here&gt;",
          "<!channel", "<<!here>>", "<#C0SUPPORT|support>", "<#C0NOPE|nope>", "<@UAGENT>",
          "<@UAGENT|alex>", "<mailto:x@evil.example|x>", HOSTILE]
WORDS = ["public", "all", "csv", "me", "off", "none", "show", "set", "nudges", "credits",
         "subscribe", "unsubscribe", "list", "preview", "open", "at-risk", "breached", "mine",
         "P1", "p2", "3", "P9", "SLA-1", "SLA-2", "sla-0", "#1", "SLA-99999999999", "7d", "30d",
         "90d", "366d", "0d", "2026-10", "0001-01", "9999-12", "2026-13", "mon", "fri", "09:00",
         "24:00", "scope:", "scope: all", "this", "channel", "first-response=15m",
         "resolution=4h", "next-response=off", "resolution=1m", "first-response=1h",
         "re-escalate=1s", "re-escalate=2h", "50%", "80%", "0%", "101%", "nan%", "95%=5%",
         "90%=10%", "tz=Europe/Berlin", "tz=Mars/Base", "holidays=DE", "holidays=XX-1234567",
         "Mon-Fri", "09:00-17:00", "Sat", "10:00-14:00", "24x7", "#support", "@alex", "@nobody",
         "help", "=", "==", "%", "-", "…"]


def _numbers() -> st.SearchStrategy[str]:
    huge = st.integers(min_value=-(10**60), max_value=10**60).map(str)
    digits = st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n)
    return st.one_of(huge, digits, st.floats(allow_nan=True).map(str))


def _token() -> st.SearchStrategy[str]:
    key = st.sampled_from(["first-response", "resolution", "next-response", "re-escalate",
                           "tz", "holidays", "scope", "95%", "x"])
    plain = st.text(min_size=1, max_size=30).filter(lambda t: not t.isspace())
    return st.one_of(
        st.sampled_from(WORDS), st.sampled_from(MARKUP), _numbers(), plain,
        st.builds(lambda k, v: f"{k}={v}", key, st.one_of(_numbers(), st.sampled_from(WORDS),
                                                         st.sampled_from(MARKUP), plain)),
        st.builds(lambda n, u: f"{n}{u}", _numbers(), st.sampled_from(["m", "h", "d", "%", "s"])),
    )


COMMAND_LINES = st.builds(
    lambda verb, args, sep: sep.join([verb, *args]),
    # Nine lines in ten start with a real verb (one_of would weigh it as one token shape).
    st.integers(0, 9).flatmap(
        lambda n: _token() if n == 0 else st.sampled_from(VERB_NAMES).map(
            str.upper if n == 1 else str)),
    st.lists(_token(), max_size=8),
    st.sampled_from([" ", "  ", "\t", "\n", " \u00a0 "]),
)


@pytest.fixture
def world(engine) -> Iterator[SimpleNamespace]:
    """Real deps on the test database and the fake Slack, a tracked channel with tickets."""
    with running_fake_slack(token=TOKEN) as fake:
        fake.add_user(ADMIN, name="ada", is_admin=True, tz="UTC")
        fake.add_user(AGENT, name="alex", tz="America/New_York")
        fake.add_channel(CHANNEL, name="support", members=[ADMIN, AGENT])
        config = Settings.from_env({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s",
                                    "SLACK_API_URL": fake.api_url, "DATABASE_URL": "sqlite://"})
        client = build_client(TOKEN, fake.api_url)
        deps = Deps(settings=config, engine=engine, unit_of_work=ThreadUnitOfWork(engine),
                    clock=FixedClock(START), client=client, notifier=SlackNotifier(client))
        answer(ROUTER, deps, {"text": "track", "team_id": TEAM_ID, "channel_id": CHANNEL,
                              "user_id": ADMIN})
        for n, text in enumerate(("Printer on fire", HOSTILE), start=1):
            ts = f"{int(START.timestamp())}.{n:06d}"
            fake.add_message(CHANNEL, ts, AGENT, text, None)
            intake.open_ticket(deps, team_id=TEAM_ID, channel_id=CHANNEL, message_ts=ts,
                               user_id=AGENT, text=text, source="message")
        yield SimpleNamespace(deps=deps, fake=fake)


def _block_texts(value) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _block_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _block_texts(item)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(line=COMMAND_LINES, user=st.sampled_from([ADMIN, AGENT]))
def test_any_command_line_gets_a_short_safe_answer(world, line, user):
    reply = answer(ROUTER, world.deps, {"text": line, "team_id": TEAM_ID, "channel_id": CHANNEL,
                                        "user_id": user, "channel_name": "support"})
    # `--hypothesis-show-statistics` shows how the lines were answered.
    event(reply.text.split(maxsplit=1)[0] if reply.text.startswith(":") else "answered")
    assert reply.text and len(reply.text) <= MAX_REPLY_CHARS
    assert all(len(text) <= MAX_REPLY_CHARS for text in _block_texts(reply.blocks))
    assert not user_markup_in(reply, typed_user="U999"), (line, reply.text[:500])
    assert_ampersands_escaped(reply)
