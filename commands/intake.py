"""What counts as a request: a person's top-level message (not a bot, an edit, a join).

Used by the inbox's filter, the message handler and the catch-up alike.
"""

from __future__ import annotations

from typing import Any

# Message subtypes written by a person; everything else (edits, joins, bots...) is not a request.
HUMAN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def is_human_message(message: dict[str, Any]) -> bool:
    """A message a person wrote (not a bot, an edit, a join or another system message)."""
    return (
        message.get("subtype") in HUMAN_SUBTYPES
        and not message.get("bot_id")
        and bool(message.get("user"))
    )


def is_thread_reply_event(message: dict[str, Any]) -> bool:
    """A reply inside a thread (a thread's first message has thread_ts == ts)."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")
