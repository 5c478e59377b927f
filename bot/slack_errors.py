"""How Slack refused a call: its error code, and whether any retry could change the answer."""

from __future__ import annotations

# Slack errors that no retry will fix: that destination is given up (logged), others proceed.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "thread_not_found",
        "message_not_found",
    }
)


def slack_error_code(exc: BaseException) -> str | None:
    """Slack's error code of a failed call (`channel_not_found`...), or None."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        error = response.get("error")
    except AttributeError:
        return None
    return error if isinstance(error, str) else None


def is_permanent(exc: BaseException) -> bool:
    """True for Slack answers that a retry cannot change (unknown channel, revoked token...)."""
    return slack_error_code(exc) in PERMANENT_SLACK_ERRORS
