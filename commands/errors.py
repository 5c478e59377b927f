"""Errors that become friendly ephemeral messages, and the wording of those messages.

The listeners (bot/listeners/answers.py) and the app's one error handler (bot/errors.py)
word them alike with `report_error`.
"""

from __future__ import annotations

import logging
import uuid

from commands.text import plain_message

log = logging.getLogger(__name__)

# One look for "you may not do this", whether it came from a button, a shortcut or `/sla`.
REFUSED_EMOJI = ":lock:"


class UsageError(ValueError):
    """The user typed something we cannot read; carries the right form of the command."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        self.message = message
        self.usage = usage
        super().__init__(message if usage is None else f"{message}\nUsage: {usage}")


class PermissionDenied(ValueError):
    """The user may not do this (for example configure a channel without being an admin)."""


class NotFound(ValueError):
    """The thing named (a ticket key, a channel) does not exist or is not visible here."""


def friendly_message(error: BaseException) -> tuple[str, str | None]:
    """Text for the user and, for unexpected errors, the id that appears in the logs."""
    # Usage and domain errors are plain text that may quote what was typed: shown escaped.
    if isinstance(error, UsageError):
        text = f":warning: {plain_message(error.message)}"
        if error.usage:
            text += f"\nUsage: `{error.usage}`"
        return text, None
    if isinstance(error, PermissionDenied):
        return f"{REFUSED_EMOJI} {error}", None
    if isinstance(error, NotFound):
        return f":mag: {error}", None
    if isinstance(error, ValueError):
        # Domain errors (PolicyError, CalendarError, DurationError...) carry readable messages.
        return f":warning: {plain_message(str(error))}", None
    error_id = uuid.uuid4().hex[:8]
    return (
        ":face_with_head_bandage: Sorry, something went wrong on our side "
        f"(error id `{error_id}`).",
        error_id,
    )


def report_error(error: BaseException) -> str:
    """Log `error` (with a traceback and an id when unexpected) and return the user's text."""
    text, error_id = friendly_message(error)
    if error_id is not None:
        log.error("unhandled error %s", error_id, exc_info=error)
    else:
        log.info("refused request: %s", error)
    return text
