"""Who may configure slabot: workspace admins and owners (users.info) and SLABOT_ADMINS."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.errors import PermissionDenied

log = logging.getLogger(__name__)


def configured_admins(deps: Any) -> frozenset[str]:
    """User ids listed in SLABOT_ADMINS."""
    admins = set(getattr(deps, "admins", ()) or ())
    settings = getattr(deps, "settings", None)
    admins.update(getattr(settings, "admins", ()) or ())
    return frozenset(admins)


def is_admin(deps: Any, user_id: str) -> bool:
    """True for SLABOT_ADMINS and for workspace admins/owners according to users.info."""
    if user_id in configured_admins(deps):
        return True
    try:
        user = deps.notifier.user_info(user_id)
    except SlackApiError as exc:
        # Unknown to Slack means not an admin; refusing is the safe answer.
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def require_admin(deps: Any, user_id: str, what: str) -> None:
    """Raise PermissionDenied with a polite message unless `user_id` is an admin."""
    if not is_admin(deps, user_id):
        raise PermissionDenied(
            f"Sorry, only workspace admins and the people in SLABOT_ADMINS can {what}. "
            "Ask one of them to do it for you."
        )
