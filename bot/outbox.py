"""The outbox sender: every queued Slack write delivered once, whatever Slack does meanwhile.

`send_outbox` leases due rows (storage/repositories/outbox.py), delivers each outside any
transaction, and records the outcome:

- sent: the row is marked sent (a card's ts is stored on its ticket in the same unit);
- Slack asked to slow down (429): tried again after its Retry-After;
- Slack failed (5xx) or the connection broke, before or after Slack acted: tried again with
  backoff, for up to `GIVE_UP_AFTER`, then marked failed and logged. A retry of a post
  first looks for the message it may already have made: each post carries its row's key in
  message metadata, and the thread (or channel, or DM) is searched for it, so a post whose
  answer was lost is recorded, not repeated;
- Slack refused for good (`channel_not_found`, `not_in_channel`...): marked failed.

Card posts and redraws are rendered when sent, from the ticket as it is then; a redraw
collapses the older redraws of the same card still waiting. Nudges have their own outbox
rows and sender (bot/nudges/); the scheduler runs both in its sender loop.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata
from slack_sdk.webhook import WebhookClient

from bot.metrics import SchedulerMetrics
from bot.retry import backoff
from bot.slack_errors import PERMANENT_SLACK_ERRORS, slack_error_code
from bot.views.card import card_text, render_ticket_card
from commands import cards
from commands.deps import Deps
from commands.slack_notifier import Blocks
from storage.repositories import outbox as outbox_repo
from storage.repositories import tickets as ticket_repo

log = logging.getLogger(__name__)

MARKER_EVENT = "slabot_write"
GIVE_UP_AFTER = timedelta(hours=24)
BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=5)
LEASE = timedelta(minutes=2)
# A redraw waits this long for its card to be posted first.
CARD_WAIT = timedelta(seconds=2)


@dataclass(frozen=True)
class _Write:
    """A claimed row, copied out of its unit of work."""

    id: int
    key: str
    kind: str
    ticket_id: int | None
    channel_id: str | None
    thread_ts: str | None
    user_id: str | None
    text: str
    blocks: Blocks | None
    response_url: str | None
    file_name: str | None
    file_content: bytes | None
    attempts: int
    created_at: datetime

    @property
    def group(self) -> str:
        """Writes of one group go out in order: a ticket's, or one conversation's."""
        if self.ticket_id is not None:
            return f"ticket:{self.ticket_id}"
        return f"to:{self.channel_id or self.user_id or self.response_url or self.id}"


@dataclass
class Delivered:
    """What one pass did, by outcome (for the loop, logs and tests)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def claimed(self) -> int:
        """Rows this pass took."""
        return sum(self.counts.values())

    def add(self, result: str) -> None:
        """Count one row's outcome."""
        self.counts[result] = self.counts.get(result, 0) + 1


def marker(key: str) -> Metadata:
    """The message metadata that names the outbox row a post came from."""
    return Metadata(event_type=MARKER_EVENT, event_payload={"key": key})


class _Retry(Exception):
    """Not delivered now; try again at `at` (with `reason` recorded)."""

    def __init__(self, reason: str, at: datetime) -> None:
        super().__init__(reason)
        self.at = at


def send_outbox(deps: Deps, *, holder: str, limit: int = 50, workers: int = 4,
                metrics: SchedulerMetrics | None = None) -> Delivered:
    """Claim up to `limit` due writes and deliver them; one ticket's writes stay in order."""
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        rows = outbox_repo.claim_writes(session=session, now=now, holder=holder, limit=limit,
                                        lease=LEASE)
        writes = [_Write(r.id, r.key, r.kind, r.ticket_id, r.channel_id, r.thread_ts,
                         r.user_id, r.text, r.blocks, r.response_url, r.file_name,
                         r.file_content, r.attempts, r.created_at)
                  for r in rows if r.id is not None]
    groups: dict[str, list[_Write]] = {}
    for write in writes:
        groups.setdefault(write.group, []).append(write)
    report = Delivered()

    def run(group: list[_Write]) -> list[str]:
        # In order; once one must wait, so do the writes after it (a digest's chart never
        # arrives before the digest, a note never before its card).
        outcomes: list[str] = []
        for write in group:
            if outcomes and outcomes[-1] in ("retry", "waiting"):
                _record_retry(deps, write, holder, "waiting for an earlier write",
                              deps.clock.now() + BACKOFF, now)
                outcomes.append("waiting")
            else:
                outcomes.append(deliver(deps, write, holder, metrics))
        return outcomes

    if workers <= 1 or len(groups) <= 1:
        outcomes = [run(group) for group in groups.values()]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
            outcomes = list(pool.map(run, groups.values()))
    for group_outcomes in outcomes:
        for outcome in group_outcomes:
            report.add(outcome)
    return report


def deliver(deps: Deps, write: _Write, holder: str, metrics: SchedulerMetrics | None = None) -> str:
    """Deliver one claimed write and record it: "sent", "retry", "failed" or "lost"."""
    now = deps.clock.now()
    try:
        slack_ts = _send(deps, write, now)
        result = _record_sent(deps, write, holder, slack_ts)
    except _Retry as retry:
        result = _record_retry(deps, write, holder, str(retry), retry.at, now)
    except Exception as exc:
        result = _record_error(deps, write, holder, exc, now)
    if metrics is not None:
        metrics.outbox_deliveries.labels(kind=write.kind, result=result).inc()
    return result


def _send(deps: Deps, write: _Write, now: datetime) -> str | None:
    """The Slack call(s) of one write; returns the ts of the message it made or drew."""
    if write.kind == outbox_repo.RESPOND:
        _respond(write)
        return None
    if write.kind == outbox_repo.EPHEMERAL:
        deps.notifier.post_ephemeral(write.channel_id or "", write.user_id or "", write.text)
        return None
    if write.kind == outbox_repo.CARD_UPDATE:
        return _redraw_card(deps, write, now)
    if write.kind == outbox_repo.FILE:
        return _upload(deps, write)
    channel, thread_ts, text, blocks = _message_of(deps, write, now)
    if write.attempts > 1:
        found = find_marked(deps, channel, thread_ts, write.key)
        if found is not None:
            log.info("outbox write %s found in Slack from an earlier attempt", write.key)
            return found
    # No link previews: a digest's thread links would each unfold into a quote.
    if thread_ts:
        response = deps.notifier.post_thread_reply(channel, thread_ts, text, blocks=blocks,
                                                   metadata=marker(write.key),
                                                   unfurl_links=False)
    else:
        response = deps.notifier.post_message(channel, text, blocks=blocks,
                                              metadata=marker(write.key), unfurl_links=False)
    return response.get("ts")


def _message_of(deps: Deps, write: _Write, now: datetime
                ) -> tuple[str, str | None, str, Blocks | None]:
    """(channel, thread ts, text, blocks) of a post, a DM or a card (rendered now)."""
    if write.kind == outbox_repo.CARD:
        card = cards.ticket_card(deps, write.ticket_id or 0, now)
        if card is None:
            raise LookupError(f"ticket {write.ticket_id} is gone")
        ticket, clock, tz = card
        return (ticket.channel_id, ticket.thread_ts, card_text(ticket, clock),
                render_ticket_card(ticket, clock, tz, now))
    if write.kind == outbox_repo.DM:
        return deps.notifier.open_dm(write.user_id or ""), None, write.text, write.blocks
    return write.channel_id or "", write.thread_ts, write.text, write.blocks


def _upload(deps: Deps, write: _Write) -> str | None:
    """Upload a file; a retry first looks for it among the channel's files since queued."""
    channel = write.channel_id or deps.notifier.open_dm(write.user_id or "")
    name = write.file_name or "file"
    if write.attempts > 1:
        # A margin for the clocks of this machine and Slack's not agreeing to the second.
        for found in deps.notifier.files_since(channel, write.created_at - timedelta(minutes=5)):
            if found.get("name") == name:
                log.info("outbox write %s found in Slack from an earlier attempt", write.key)
                return found.get("id")
    uploaded = deps.notifier.upload_file(channel, write.file_content or b"", name,
                                         title=write.text or name)
    files = uploaded.get("files") or [uploaded.get("file") or {}]
    return files[0].get("id") if files else None


def _redraw_card(deps: Deps, write: _Write, now: datetime) -> str | None:
    card = None if write.ticket_id is None else cards.ticket_card(deps, write.ticket_id, now)
    if card is None or write.ticket_id is None:
        return None
    ticket, clock, tz = card
    if not ticket.card_ts:
        with deps.unit_of_work() as session:
            waiting = outbox_repo.card_pending(session=session, ticket_id=write.ticket_id)
        if waiting:
            raise _Retry("the card is not posted yet", now + CARD_WAIT)
        return None  # the card was never posted: nothing to redraw
    deps.notifier.update_message(ticket.channel_id, ticket.card_ts, card_text(ticket, clock),
                                 blocks=render_ticket_card(ticket, clock, tz, now))
    return ticket.card_ts


def _respond(write: _Write) -> None:
    response = WebhookClient(write.response_url or "", timeout=15).send(
        text=write.text, response_type="ephemeral", replace_original=False)
    if response.status_code == 429 or response.status_code >= 500:
        raise ConnectionError(f"response_url answered {response.status_code}")
    if response.status_code >= 400:  # expired (30 minutes) or used up (5 answers)
        raise PermissionError(f"response_url answered {response.status_code}")


def find_marked(deps: Deps, channel: str, thread_ts: str | None, key: str) -> str | None:
    """The ts of a message carrying `key`'s marker in the thread (or the channel's recent
    history), or None. Errors propagate: not knowing is no reason to post again."""
    for message in deps.notifier.recent_messages(channel, thread_ts):
        metadata = message.get("metadata") or {}
        if (metadata.get("event_type") == MARKER_EVENT
                and (metadata.get("event_payload") or {}).get("key") == key):
            return message.get("ts")
    return None


def _record_sent(deps: Deps, write: _Write, holder: str, slack_ts: str | None) -> str:
    with deps.unit_of_work() as session:
        kept = outbox_repo.mark_sent(session=session, write_id=write.id, holder=holder,
                                     at=deps.clock.now(), slack_ts=slack_ts)
        if kept and write.ticket_id is not None:
            if write.kind == outbox_repo.CARD and slack_ts:
                ticket_repo.set_card_ts(session=session, ticket_id=write.ticket_id,
                                        card_ts=slack_ts)
            if write.kind in (outbox_repo.CARD, outbox_repo.CARD_UPDATE):
                outbox_repo.collapse_card_updates(session=session, ticket_id=write.ticket_id,
                                                  sent_id=write.id)
    if not kept:
        log.warning("outbox write %s was sent, but another sender had taken it over", write.key)
        return "lost"
    return "sent"


def _record_retry(deps: Deps, write: _Write, holder: str, reason: str, at: datetime,
                  now: datetime) -> str:
    if now - write.created_at > GIVE_UP_AFTER:
        return _give_up(deps, write, holder, f"still failing after {GIVE_UP_AFTER}: {reason}")
    with deps.unit_of_work() as session:
        outbox_repo.mark_retry(session=session, write_id=write.id, holder=holder,
                               error=reason, retry_at=at)
    return "retry"


def _record_error(deps: Deps, write: _Write, holder: str, exc: Exception, now: datetime) -> str:
    code = slack_error_code(exc)
    if code in PERMANENT_SLACK_ERRORS or isinstance(exc, LookupError | PermissionError):
        return _give_up(deps, write, holder, code or f"{type(exc).__name__}: {exc}")
    reason = code or f"{type(exc).__name__}: {exc}"
    delay = backoff(BACKOFF, write.attempts, MAX_BACKOFF)
    if isinstance(exc, SlackApiError) and getattr(exc.response, "status_code", None) == 429:
        delay = max(delay, timedelta(seconds=_retry_after(exc)))
    log.warning("outbox write %s failed (attempt %d): %s; trying again in %s",
                write.key, write.attempts, reason, delay)
    return _record_retry(deps, write, holder, reason, now + delay, now)


def _give_up(deps: Deps, write: _Write, holder: str, reason: str) -> str:
    with deps.unit_of_work() as session:
        outbox_repo.mark_failed(session=session, write_id=write.id, holder=holder, error=reason)
    log.error("outbox write %s given up: %s", write.key, reason)
    return "failed"


def _retry_after(exc: SlackApiError) -> int:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(int(str(value if not isinstance(value, list) else value[0])), 1)
            except ValueError:
                return 1
    return 1


def next_write_at(deps: Deps) -> datetime | None:
    """When the earliest waiting write may be tried."""
    with deps.unit_of_work() as session:
        return outbox_repo.next_write_at(session=session)

