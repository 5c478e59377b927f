"""`/sla list`, `/sla ticket` and the answers to ticket moves (`/sla resolve`, `/sla priority`,
`/sla assign`).

Plain data in, a `Reply` out: no Slack calls, no database, `now` passed in. Instants are
shown in the reader's time zone ("10:30 Berlin").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.views.blocks import REPLY_SECTION_TEXT, Reply, context, section
from bot.views.card import TicketLike, render_ticket_card
from bot.views.formats import (
    METRIC_LABELS,
    PRIORITY_EMOJI,
    due_text,
    excerpt,
    local_time,
    place_name,
    relative,
)
from bot.views.status import where_label
from commands.assign import TicketAssigned
from commands.text import channel_mention, escape_mrkdwn, quote, user_mention
from commands.text import link as link_to
from commands.tickets import (
    HistoryEntry,
    ListFilter,
    PriorityChanged,
    TicketDetail,
    TicketList,
    TicketMoved,
)
from sla.clock import TicketClock
from sla.targets import Metric, Priority

# Slack caps a message at 50 blocks and a section's text at 3000 characters.
MAX_LIST_LINES = 20
MAX_HISTORY = 10
_FILTER_TITLES = {
    ListFilter.OPEN: "Open tickets",
    ListFilter.AT_RISK: "Tickets at risk",
    ListFilter.BREACHED: "Tickets past their SLA",
    ListFilter.MINE: "Your open tickets",
}
_EMPTY = {
    ListFilter.OPEN: "No open tickets",
    ListFilter.AT_RISK: "Nothing at risk",
    ListFilter.BREACHED: "Nothing past its SLA",
    ListFilter.MINE: "You have no open tickets",
}
_HISTORY_WORDS = {
    "created": "opened",
    "responded": "answered",
    "requester_replied": "requester replied",
    "paused": "paused",
    "resumed": "resumed",
    "priority_changed": "priority set to {priority}",
    "resolved": "resolved",
    "reopened": "reopened",
    "assigned": "assigned to {note}",
    "note": "note",
}
_MOVED = {
    "resolve": ":white_check_mark: {key} is resolved",
    "pause": ":double_vertical_bar: {key} is paused: no SLA clock runs",
    "resume": ":arrow_forward: {key} is running again",
    "reopen": ":leftwards_arrow_with_hook: {key} is open again",
}


class ListedTicket(Protocol):
    """The ticket fields a list line shows (a storage Ticket row satisfies it)."""

    key: str
    priority: str
    status: str
    channel_id: str
    title: str
    text: str
    permalink: str | None
    assignee_id: str | None
    first_response_due_at: datetime | None
    first_response_stopped_at: datetime | None
    resolution_due_at: datetime | None
    resolution_stopped_at: datetime | None


class DetailedTicket(TicketLike, Protocol):
    """What `/sla ticket` shows besides the card: where and when the ticket was opened."""

    permalink: str | None
    created_at: datetime


# -- list -------------------------------------------------------------------------------------


def _next_due(ticket: ListedTicket) -> tuple[Metric, datetime] | None:
    candidates = [
        (metric, due)
        for metric, due, stopped in (
            (Metric.FIRST_RESPONSE, ticket.first_response_due_at,
             ticket.first_response_stopped_at),
            (Metric.RESOLUTION, ticket.resolution_due_at, ticket.resolution_stopped_at),
        )
        if due is not None and stopped is None
    ]
    return min(candidates, key=lambda pair: pair[1], default=None)


def _state(ticket: ListedTicket, tz: str, now: datetime) -> str:
    if ticket.status == "paused":
        return ":double_vertical_bar: paused"
    if ticket.status == "resolved":
        return ":white_check_mark: resolved"
    due = _next_due(ticket)
    if due is None:
        return "open"
    metric, at = due
    label = METRIC_LABELS[metric].lower()
    when = local_time(at, tz, now)
    if at <= now:
        return f":rotating_light: {label} overdue by {relative(now - at)} ({when})"
    return f"{label} due in {relative(at - now)} ({when})"


def ticket_line(ticket: ListedTicket, tz: str, now: datetime, *, show_channel: bool) -> str:
    """One ticket in a list: priority, key (linked), state, channel, title excerpt."""
    name = link_to(ticket.permalink, ticket.key) if ticket.permalink else f"*{ticket.key}*"
    emoji = PRIORITY_EMOJI.get(Priority(ticket.priority), "")
    where = f" in {channel_mention(ticket.channel_id)}" if show_channel else ""
    owner = f" · {user_mention(ticket.assignee_id)}" if ticket.assignee_id else ""
    title = escape_mrkdwn(excerpt(ticket.title or ticket.text, 80))
    state = _state(ticket, tz, now)
    return f"{emoji} {name} {ticket.priority}{where} · {state}{owner}\n      {title}"


def render_ticket_list(
    tickets: Sequence[ListedTicket],
    which: ListFilter,
    *,
    channel_id: str | None,
    tz: str,
    now: datetime,
    total: int | None = None,
) -> Reply:
    """A list of tickets (at most MAX_LIST_LINES lines; `total` says how many matched)."""
    title = _FILTER_TITLES[which]
    where = where_label(channel_id)
    total = len(tickets) if total is None else total
    if not tickets:
        text = f"{_EMPTY[which]} in {where}. :tada:"
        return Reply(text, [section(text, REPLY_SECTION_TEXT)])
    shown = tickets[:MAX_LIST_LINES]
    lines = [ticket_line(t, tz, now, show_channel=channel_id is None) for t in shown]
    blocks = [section(f"*{title}* in {where} ({total})", REPLY_SECTION_TEXT)]
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > REPLY_SECTION_TEXT:
            blocks.append(section(chunk, REPLY_SECTION_TEXT))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}" if chunk else line
    blocks.append(section(chunk, REPLY_SECTION_TEXT))
    footer = f"Times in {place_name(tz)} time."
    if total > len(shown):
        footer = f"Showing {len(shown)} of {total}, most urgent first. " + footer
    blocks.append(context(footer))
    return Reply(f"{title} in {where} ({total})\n" + "\n".join(lines), blocks)


# -- one ticket -------------------------------------------------------------------------------


def history_line(entry: HistoryEntry, tz: str, now: datetime) -> str:
    """`Tue 10:30 Berlin · paused by <@U1>: waiting for the vendor`."""
    note = entry.note or ""
    if entry.kind == "assigned":
        what = f"assigned to {user_mention(note)}" if note else "unassigned"
        note = ""
    else:
        what = escape_mrkdwn(_HISTORY_WORDS.get(entry.kind, entry.kind).format(
            priority=entry.priority or "", note=note
        ))
    by = f" by {user_mention(entry.actor_id)}" if entry.actor_id else ""
    # Reasons are what people typed (`/sla pause SLA-2 <!channel>`): shown, never run.
    why = f": {escape_mrkdwn(excerpt(note, 120))}" if note else ""
    return f"{local_time(entry.at, tz, now)} · {what}{by}{why}"


def render_ticket_detail(
    ticket: DetailedTicket, clock: TicketClock, tz: str, now: datetime,
    history: Sequence[HistoryEntry] = (),
) -> Reply:
    """The ticket card as `/sla ticket` shows it, its latest history and a link to its thread."""
    blocks = render_ticket_card(ticket, clock, tz, now)
    if history:
        shown = list(history)[-MAX_HISTORY:]
        lines = [history_line(entry, tz, now) for entry in shown]
        if len(history) > len(shown):
            lines.insert(0, f"…{len(history) - len(shown)} earlier")
        blocks.append(section("*History*\n" + "\n".join(lines), REPLY_SECTION_TEXT))
    origin = (link_to(ticket.permalink, "Open the thread") if ticket.permalink
              else f"Thread in {channel_mention(ticket.channel_id)}")
    blocks.append(context(f"{origin} · opened {local_time(ticket.created_at, tz, now)}"))
    return Reply(f"{ticket.key} · {clock.priority} · {ticket.status}", blocks)


# -- moves ------------------------------------------------------------------------------------


def _clock_lines(clock: TicketClock, tz: str, now: datetime) -> str:
    """How the ticket stands after a move, one metric per line."""
    return "\n".join(
        f"• {METRIC_LABELS[metric]}: {due_text(metric_clock, tz, now)}"
        for metric, metric_clock in clock.metrics.items()
    )


def list_reply(result: TicketList) -> Reply:
    """`/sla list`."""
    return render_ticket_list(result.tickets, result.which, channel_id=result.channel_id,
                              tz=result.tz, now=result.now, total=result.total)


def detail_reply(result: TicketDetail) -> Reply:
    """`/sla ticket`."""
    return render_ticket_detail(result.ticket, result.clock, result.tz, result.now,
                                result.history)


def moved_reply(result: TicketMoved) -> Reply:
    """`/sla resolve|pause|resume|reopen`: what happened (and why), then the clocks."""
    text = _MOVED[result.move].format(key=result.key)
    if result.reason:
        text += f" ({quote(result.reason, 200)})"
    return Reply(f"{text}.\n{_clock_lines(result.clock, result.tz, result.now)}")


def assigned_reply(result: TicketAssigned) -> Reply:
    """`/sla assign` (and Take it on a ticket already yours): who has the ticket now."""
    key = result.key
    if result.assignee_id is None:
        now, before = f"{key} is unassigned now", f"{key} is not assigned to anyone"
    elif result.assignee_id == result.by:
        now, before = f"{key} is yours now", f"{key} is already yours"
    else:
        who = user_mention(result.assignee_id)
        now, before = f"{key} is assigned to {who} now", f"{key} is already assigned to {who}"
    if not result.changed:
        return Reply(f":information_source: {before}; nothing changed.")
    return Reply(f":bust_in_silhouette: {now}; the thread is told.")


def priority_reply(result: PriorityChanged) -> Reply:
    """`/sla priority`: the new priority, then the clocks against its targets."""
    return Reply(f":arrows_counterclockwise: {result.key} is now {result.priority}.\n"
                 f"{_clock_lines(result.clock, result.tz, result.now)}")
