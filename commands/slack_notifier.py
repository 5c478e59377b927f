"""The bot's Slack notifier and Web API client (slack_sdk), the real side of `deps.Notifier`.

Tests point the client's base URL at a fake Slack instead of patching these.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.metadata import Metadata
from slack_sdk.web import SlackResponse

log = logging.getLogger(__name__)

# Block Kit blocks as JSON objects: drawn by bot/views, passed through to Slack unread.
Blocks = Sequence[dict[str, object]]


class SlackProfile(TypedDict, total=False):
    """What the bot reads of a users.info profile."""

    display_name: str


class SlackUser(TypedDict, total=False):
    """What the bot reads of a users.info record (admin checks, time zone, names)."""

    name: str
    real_name: str
    tz: str
    is_admin: bool
    is_owner: bool
    is_primary_owner: bool
    profile: SlackProfile


class MessageMetadata(TypedDict, total=False):
    """A message's metadata as Slack returns it (the outbox's marker is one)."""

    event_type: str
    event_payload: dict[str, str]


class HistoryMessage(TypedDict, total=False):
    """What the bot reads of a message in a history: its ts and metadata."""

    ts: str
    metadata: MessageMetadata


class SlackFile(TypedDict, total=False):
    """What the bot reads of a files.list entry."""

    id: str
    name: str


def build_client(token: str, base_url: str) -> WebClient:
    """slack_sdk's WebClient, retrying only answers Slack did not act on (429 Retry-After).

    A 5xx or a dropped connection may follow a call Slack carried out, so those are not
    retried here: the outbox retries writes after looking for their marker, and a failed
    read falls back or is asked again by its caller.
    """
    return WebClient(
        token=token,
        base_url=base_url,
        logger=_sdk_logger(),
        timeout=15,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def _sdk_logger() -> logging.Logger:
    """slack_sdk's client logger with its level pinned to the level in effect.

    slack_sdk decides whether to format its "Sending a request" debug line by the logger's
    own level (`logger.level <= DEBUG`), which is NOTSET, so 0, unless someone set it: every
    call then renders the whole request (a card's blocks and all) into a string nobody logs.
    Pinning the effective level keeps that line for LOG_LEVEL=DEBUG only.
    """
    logger = logging.getLogger("slack_sdk.web.base_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    if _SDK_FILTER not in logger.filters:
        logger.addFilter(_SDK_FILTER)
    return logger


def _not_a_failed_send(record: logging.LogRecord) -> bool:
    # slack_sdk logs every failed call as an ERROR with its own wording; the callers say
    # what failed and what happens next (the outbox retries, start-up names the fix).
    return not record.getMessage().startswith("Failed to send a request to Slack API server")


_SDK_FILTER = _not_a_failed_send


class SlackNotifier:
    """The one seam for outbound Slack calls, on slack_sdk's WebClient: everything the bot
    says goes through here."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._workspace_url: str | None = None

    def post_message(self, channel: str, text: str, *, blocks: Blocks | None = None,
                     metadata: Metadata | None = None,
                     unfurl_links: bool | None = None) -> SlackResponse:
        """Post a top-level message in a channel (or DM channel id)."""
        return self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                            metadata=metadata, unfurl_links=unfurl_links)

    def post_thread_reply(self, channel: str, thread_ts: str, text: str, *,
                          blocks: Blocks | None = None, metadata: Metadata | None = None,
                          unfurl_links: bool | None = None) -> SlackResponse:
        """Reply inside a thread."""
        return self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text,
                                            blocks=blocks, metadata=metadata,
                                            unfurl_links=unfurl_links)

    def dm_user(self, user: str, text: str, *, blocks: Blocks | None = None) -> SlackResponse:
        """Send a direct message to a user (opens the IM first)."""
        return self.client.chat_postMessage(channel=self.open_dm(user), text=text, blocks=blocks)

    def open_dm(self, user: str) -> str:
        """The id of the bot's direct-message conversation with `user`."""
        return str(self.client.conversations_open(users=[user])["channel"]["id"])

    def recent_messages(self, channel: str, thread_ts: str | None) -> list[HistoryMessage]:
        """A thread's messages (or a channel's latest 200), with their metadata: where the
        outbox looks for a post whose answer was lost."""
        if thread_ts:
            response = self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=1000, include_all_metadata=True)
        else:
            response = self.client.conversations_history(
                channel=channel, limit=200, include_all_metadata=True)
        return list(response.get("messages") or ())

    def update_message(self, channel: str, ts: str, text: str, *,
                       blocks: Blocks | None = None) -> SlackResponse:
        """Edit a message the bot posted (the ticket card)."""
        return self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(self, channel: str, user: str, text: str) -> SlackResponse:
        """A message only `user` sees."""
        return self.client.chat_postEphemeral(channel=channel, user=user, text=text)

    def publish_home(self, user: str, view: dict[str, object]) -> SlackResponse:
        """Publish the App Home tab of `user`."""
        return self.client.views_publish(user_id=user, view=view)

    def upload_file(
        self,
        channel: str,
        content: bytes | str,
        filename: str,
        *,
        title: str | None = None,
        initial_comment: str | None = None,
        thread_ts: str | None = None,
    ) -> SlackResponse:
        """Upload a file into a channel (external upload flow, files_upload_v2)."""
        return self.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=title or filename,
            initial_comment=initial_comment,
            thread_ts=thread_ts,
        )

    def files_since(self, channel: str, since: datetime) -> list[SlackFile]:
        """Files shared in `channel` from `since` on (where the outbox looks for an upload
        whose answer was lost)."""
        response = self.client.files_list(channel=channel, ts_from=str(int(since.timestamp())),
                                          count=100)
        return list(response.get("files") or ())

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message, or None when Slack cannot give one."""
        response = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        return response.get("permalink")

    def learn_workspace_url(self) -> None:
        """Ask auth.test once for the workspace URL that message links are built on.

        Called at start, outside any unit of work; when Slack cannot answer, links are
        left out until the next start.
        """
        try:
            self._workspace_url = self.client.auth_test().get("url") or ""
        except Exception as exc:
            log.warning("could not learn the workspace URL (%s): tickets get no link",
                        exc.__class__.__name__)

    def message_link(self, channel: str, ts: str) -> str | None:
        """A link to a top-level message, built without a Slack call (safe in a transaction).

        Slack's message links are ``<workspace url>archives/<channel>/p<ts without dot>``;
        None until `learn_workspace_url` found the workspace URL.
        """
        if not self._workspace_url:
            return None
        base = self._workspace_url if self._workspace_url.endswith("/") else (
            self._workspace_url + "/")
        return f"{base}archives/{channel}/p{ts.replace('.', '')}"

    def user_info(self, user: str) -> SlackUser:
        """The users.info record of `user` (for admin checks and time zones)."""
        record: SlackUser = self.client.users_info(user=user)["user"]
        return record
