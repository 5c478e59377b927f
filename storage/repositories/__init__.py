"""Repositories: the only code that writes SQL.

Convention: plain functions, every argument keyword-only, the session first
(``list_open_tickets(session=s, workspace_id=1)``). They flush but never commit: the caller's
``storage.db.unit_of_work`` commits or rolls back the whole unit. They return table rows
(``storage.models``); ``storage.mappers`` turns rows into ``sla`` objects.
"""

from storage.repositories.compliance import compliance_counts, period_figures
from storage.repositories.compliance_scan import scan_compliance_counts
from storage.repositories.digests import (
    add_digest_subscription,
    get_digest_subscription,
    list_digest_subscriptions,
    remove_digest_subscription,
)
from storage.repositories.jobs import acquire_job_slot
from storage.repositories.nudges import (
    add_nudge,
    cancel_pending_nudges,
    claim_due_nudges,
    claim_pending_nudges,
    list_nudges,
    load_sent_nudges,
    mark_nudge_failed,
    mark_nudge_sent,
    outbox_backlog,
    record_nudge_delivery,
    release_ticket,
)
from storage.repositories.ticket_clock import apply_clock
from storage.repositories.ticket_events import append_event, list_events, load_clock_events
from storage.repositories.ticket_lists import (
    list_at_risk_tickets,
    list_breached_tickets,
    list_open_tickets,
    list_tickets_in_period,
)
from storage.repositories.tickets import (
    NewTicket,
    create_ticket,
    create_tickets,
    get_ticket,
    get_ticket_by_key,
    get_ticket_by_message,
    get_ticket_by_thread,
    set_assignee,
)
from storage.repositories.workspaces import (
    channel_policies,
    configure_channel,
    get_channel,
    get_channel_setting,
    get_or_create_workspace,
    get_policy,
    get_policy_row,
    get_workspace,
    get_workspace_by_id,
    is_tracked,
    list_all_tracked_channels,
    list_tracked_channels,
    save_policy,
    track_channel,
    untrack_channel,
    update_workspace,
)

__all__ = [
    "NewTicket",
    "acquire_job_slot",
    "add_digest_subscription",
    "add_nudge",
    "append_event",
    "apply_clock",
    "cancel_pending_nudges",
    "channel_policies",
    "claim_due_nudges",
    "claim_pending_nudges",
    "compliance_counts",
    "configure_channel",
    "create_ticket",
    "create_tickets",
    "get_channel",
    "get_channel_setting",
    "get_digest_subscription",
    "get_or_create_workspace",
    "get_policy",
    "get_policy_row",
    "get_ticket",
    "get_ticket_by_key",
    "get_ticket_by_message",
    "get_ticket_by_thread",
    "get_workspace",
    "get_workspace_by_id",
    "is_tracked",
    "list_all_tracked_channels",
    "list_at_risk_tickets",
    "list_breached_tickets",
    "list_digest_subscriptions",
    "list_events",
    "list_nudges",
    "list_open_tickets",
    "list_tickets_in_period",
    "list_tracked_channels",
    "load_clock_events",
    "load_sent_nudges",
    "mark_nudge_failed",
    "mark_nudge_sent",
    "outbox_backlog",
    "period_figures",
    "record_nudge_delivery",
    "release_ticket",
    "remove_digest_subscription",
    "save_policy",
    "scan_compliance_counts",
    "set_assignee",
    "track_channel",
    "untrack_channel",
    "update_workspace",
]
