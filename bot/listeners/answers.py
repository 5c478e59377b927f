"""How a listener answers after its ack: a drawn result, or a private word on an error.

Listeners that ack by hand (buttons, shortcuts, `/sla`) must not let an exception escape
after `ack()`: Bolt's thread runner then overwrites the recorded ack, and Slack gets a 404
after three seconds instead of the ack. They wrap their work in `errors_to_user(respond)`.
Everything else reaches the app's one error handler (bot/errors.py), same wording.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from bot.views.replies import render
from commands.errors import report_error
from commands.request import Result
from commands.slack_notifier import Blocks

log = logging.getLogger(__name__)

class Respond(Protocol):
    """Bolt's `respond`, or the inbox worker's stand-in (bot/inbox.py `OutboxReplies`)."""

    def __call__(self, text: str = "", *, blocks: Blocks | None = None,
                 response_type: str | None = None,
                 replace_original: bool | None = None) -> object: ...


@contextmanager
def errors_to_user(respond: Respond) -> Iterator[None]:
    """Turn any exception in the block into a private reply via `respond` (after `ack()`)."""
    try:
        yield
    except Exception as error:
        text = report_error(error)
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # Slack unreachable or a response_url that is no URL
            log.warning("could not tell the user about an error: %s", exc.__class__.__name__)


def tell_privately(respond: Respond, result: Result) -> None:
    """Answer only the person who acted, with `result` drawn as text."""
    respond(text=render(result).text, response_type="ephemeral", replace_original=False)
