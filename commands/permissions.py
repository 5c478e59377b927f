"""Who may configure slabot: workspace admins and owners (users.info) and SLABOT_ADMINS."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from commands.deps import Deps
from commands.errors import PermissionDenied

log = logging.getLogger(__name__)


def is_admin(deps: Deps, user_id: str) -> bool:
    """True for SLABOT_ADMINS and for workspace admins/owners according to users.info."""
    if user_id in deps.settings.admins:
        return True
    try:
        user = deps.notifier.user_info(user_id)
    except SlackApiError as exc:
        # Unknown to Slack means not an admin; refusing is the safe answer.
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def require_admin(deps: Deps, user_id: str, what: str) -> None:
    """Raise PermissionDenied with a polite message unless `user_id` is an admin."""
    if not is_admin(deps, user_id):
        raise PermissionDenied(
            f"Sorry, only workspace admins and the people in SLABOT_ADMINS can {what}. "
            "Ask one of them to do it for you."
        )
