"""Hostile text and the check that no output carries markup a person typed.

Shared by the view walk (tests/bot/views/test_hostile_text.py), the `/sla` fuzz test and the
e2e injection tests: whatever renders `HOSTILE` must show it as text, never as a ping or link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

HOSTILE = (
    "<!channel> <!here> <!everyone> <!subteam^S1|team> <https://evil.example|click> & <@U999>"
)
# What Slack would send for the same words typed literally (it escapes & < > itself).
HOSTILE_AS_SLACK_SENDS = (
    HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)
# Links the bot itself makes (thread permalinks of the tests' fake workspaces).
BOT_LINK_PREFIXES = (
    "https://acme.slack.com/", "https://slack.test/", "https://fake.slack.test/", "http://127.0.0.1",
)

_LINK = re.compile(r"<(https?:[^>|]*)")
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def strings_in(value: Any) -> Iterable[str]:
    """Every string inside a reply, blocks, a dict or a list (keys left out)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
    elif hasattr(value, "__dict__") or hasattr(value, "__dataclass_fields__"):
        yield from strings_in(vars(value))


def user_markup_in(value: Any, *, typed_user: str = "U999") -> list[str]:
    """What in `value` a person typed that Slack would run: pings, user links, disguised URLs."""
    found = []
    for text in strings_in(value):
        if "<!" in text:
            found.append(f"special mention in {text[:200]!r}")
        if f"<@{typed_user}" in text:
            found.append(f"typed user mention in {text[:200]!r}")
        for url in _LINK.findall(text):
            if not url.startswith(BOT_LINK_PREFIXES):
                found.append(f"typed link {url!r} in {text[:200]!r}")
    return found


def assert_no_user_markup(value: Any) -> None:
    """Fail naming the first piece of typed markup that `value` would run in Slack."""
    found = user_markup_in(value)
    assert not found, found[0]


def assert_ampersands_escaped(value: Any) -> None:
    """Fail if a text carries a bare `&` (Slack reads `&...;` as an entity)."""
    bad = [t for t in strings_in(value) if _BARE_AMPERSAND.search(t)]
    assert not bad, f"bare & in {bad[0][:200]!r}"
