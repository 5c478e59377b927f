"""User text made safe to show: mrkdwn escaping, clipping, CSV cells, and reply limits.

Everything a person typed (ticket text, reasons, verb arguments, names) is shown through
`escape_mrkdwn`, so a `<!channel>` or `<https://evil.example|click>` someone typed is shown
as text and never pings or disguises a link. Mentions the bot itself builds (`<@U1>` for
the assignee, `<#C1>` for a channel, links to threads) are written around the escaped text
with `user_mention` / `channel_mention`, which refuse anything that is not a Slack id.
Block Kit `plain_text` fields are never parsed as markup: they need no escaping.
"""

from __future__ import annotations

import re

# Slack's limit for a section's text, and what every `/sla` reply is held to.
MAX_REPLY_CHARS = 3000
# How much of a person's input a reply quotes back.
MAX_QUOTE_CHARS = 100
ELLIPSIS = "…"

# Slack sends message and command text with these three already as entities; they are read
# back first so `a &amp; b` shows as "a & b", not "a &amp; b", and then all are escaped.
_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_DECODED = {"amp": "&", "lt": "<", "gt": ">"}
_USER_ID = re.compile(r"^[UWB][A-Z0-9]{1,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{1,30}$")
_LONG_WORD = re.compile(rf"\S{{{MAX_QUOTE_CHARS + 1},}}")
# Cells a spreadsheet would run as a formula (OWASP's list, tab and carriage return included).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_mrkdwn(text: str) -> str:
    """`text` as literal mrkdwn: `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;` (Slack's rule)."""
    plain = _SLACK_ENTITY.sub(lambda m: _DECODED[m.group(1)], text or "")
    return plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """`text` cut to `limit` characters with an ellipsis (people paste whole pages)."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """A person's input quoted back in mrkdwn: clipped, then escaped."""
    return escape_mrkdwn(clip(text, limit))


def plain_message(text: str, limit: int = 600) -> str:
    """A plain-text message (an error that may quote input) made into safe, short mrkdwn.

    Any word longer than MAX_QUOTE_CHARS is clipped, so a pasted page inside an error from
    any layer comes back as its first hundred characters.
    """
    short = _LONG_WORD.sub(lambda m: clip(m.group(0)), text or "")
    return escape_mrkdwn(clip(short, limit))


def user_mention(user_id: str | None) -> str:
    """`<@U123>` for a Slack user id; anything else is shown as escaped text."""
    value = user_id or ""
    return f"<@{value}>" if _USER_ID.match(value) else escape_mrkdwn(value)


def channel_mention(channel_id: str | None) -> str:
    """`<#C123>` for a Slack channel id; anything else is shown as escaped text."""
    value = channel_id or ""
    return f"<#{value}>" if _CHANNEL_ID.match(value) else escape_mrkdwn(value)


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a link the bot made (label escaped), else the escaped label alone."""
    if not url or not url.startswith(("https://", "http://")) or any(c in url for c in "<>| "):
        return escape_mrkdwn(label)
    return f"<{url}|{escape_mrkdwn(label)}>"


def csv_cell(value: str) -> str:
    """A CSV text cell a spreadsheet will not run: formula-like cells get a leading `'`."""
    return "'" + value if value.startswith(_FORMULA_START) else value
