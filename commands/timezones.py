"""A person's Slack time zone: cards, replies and the App Home show times in it.

Asked once per person (users.info) and cached for the life of the process; when Slack
cannot answer, the caller's fallback (the workspace's or the channel's zone) is used.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk.errors import SlackApiError

from commands.deps import Deps

log = logging.getLogger(__name__)

_tz_cache: dict[str, str] = {}
_tz_lock = threading.Lock()


def user_tz(deps: Deps, user_id: str, fallback: str) -> str:
    """The user's Slack time zone (users.info, cached), else `fallback`."""
    with _tz_lock:
        cached = _tz_cache.get(user_id)
    if cached:
        return cached
    try:
        tz = str(deps.notifier.user_info(user_id).get("tz") or fallback)
    except SlackApiError as exc:
        # Slack answered (user_not_found, missing scope): asking again will not help.
        log.info("users.info refused for %s: %s", user_id, exc.response.get("error"))
        tz = fallback
    except Exception as exc:  # network trouble: a card in the fallback zone, ask next time
        log.info("users.info failed for %s: %s", user_id, exc.__class__.__name__)
        return fallback
    with _tz_lock:
        _tz_cache[user_id] = tz
    return tz
