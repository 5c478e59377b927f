"""Catch-up: requests posted while the bot was not listening still become tickets.

Every event is stored before its ack, so nothing Slack delivered is lost; but Slack gives up
redelivering an event after three tries, and while the bot is down (or its database refuses
writes for longer than Slack retries) requests are never delivered at all. So at start the
bot reads the recent history of each tracked channel (`conversations.history`, the scope
intake already has) and opens a ticket for every top-level human message; messages that
already are tickets are skipped by the database's unique key, so reading one twice is
harmless. A backstop, not the path correctness depends on: Slack rate-limits that method
hard for apps outside the Marketplace.

In a tracked channel every top-level human message is a ticket, so the channel's newest
ticket says how far the bot had heard: reading starts an hour before it (events arrive out
of order and Slack retries for a while), and reaches back at most a week, however long the
bot was down. A busy channel after a short restart is one page of history; a quiet one a
call that finds nothing; a weekend of downtime is caught up whole. Messages from before the
channel's tracking began are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.deps import Deps
from commands.intake import is_human_message, is_thread_reply_event, open_ticket, ts_instant
from storage.repositories import tickets as ticket_repo
from storage.repositories import workspaces as workspace_repo

log = logging.getLogger(__name__)

# How far back a start looks at most: a week covers a long weekend or a holiday of downtime.
CATCH_UP_WINDOW = timedelta(days=7)
# Reading starts this long before the channel's newest ticket: messages a little older than
# it may still have been missed (events arrive out of order; Slack retries for a while).
OVERLAP = timedelta(hours=1)
PAGE_SIZE = 200


@dataclass
class CatchUpReport:
    """What a catch-up read and handed to intake."""

    channels: int = 0
    messages: int = 0  # top-level human messages in the window (most already are tickets)
    unreadable: list[str] = field(default_factory=list)  # channels Slack would not show


def catch_up(deps: Deps, *, window: timedelta = CATCH_UP_WINDOW) -> CatchUpReport:
    """Open a ticket for each recent top-level message of every tracked channel."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        channels = [
            (team_id, channel.channel_id, channel.tracking_since, ticket_repo.newest_message_ts(
                session=session, workspace_id=channel.workspace_id, channel_id=channel.channel_id))
            for team_id, channel in workspace_repo.list_all_tracked_channels(session=session)
        ]
    report = CatchUpReport(channels=len(channels))
    for team_id, channel_id, tracking_since, newest_ts in channels:
        since = max(tracking_since or now, now - window)
        heard = ts_instant(newest_ts) if newest_ts else None
        if heard is not None:
            since = max(since, heard - OVERLAP)
        try:
            for message in _history(deps, channel_id, since):
                report.messages += 1
                open_ticket(
                    deps, team_id=team_id, channel_id=channel_id, message_ts=message["ts"],
                    user_id=message["user"], text=message.get("text") or "",
                    source="message", only_if_tracked=True,
                )
        except Exception as exc:  # not in the channel any more, no scope, Slack down
            log.warning("catch-up could not read %s: %s", channel_id, _reason(exc))
            report.unreadable.append(channel_id)
    log.info("catch-up read %d tracked channels: %d recent requests looked at%s",
             report.channels, report.messages,
             f", {len(report.unreadable)} unreadable" if report.unreadable else "")
    return report


def _history(deps: Deps, channel_id: str, since: datetime) -> list[dict[str, Any]]:
    """Top-level human messages of `channel_id` posted after `since`, oldest first."""
    oldest = f"{since.timestamp():.6f}"
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = deps.client.conversations_history(
            channel=channel_id, oldest=oldest, limit=PAGE_SIZE, cursor=cursor
        )
        for message in response.get("messages") or ():
            if is_human_message(message) and not is_thread_reply_event(message):
                found.append(message)
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not response.get("has_more") or not cursor:
            break
    found.sort(key=lambda message: float(message["ts"]))
    return found


def _reason(exc: Exception) -> str:
    error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
    return str(error or exc.__class__.__name__)
