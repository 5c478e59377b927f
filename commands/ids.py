"""Every Slack identifier the bot registers or renders, in one place.

Commands, action_ids, block_ids and callback_ids are StrEnums so a typo is an
AttributeError at import time, not a button that silently does nothing.
Other engineers append their members here.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    """Slash commands."""

    SLA = "/sla"


class Action(StrEnum):
    """action_id values of interactive elements."""

    PRIORITY_P1 = "ticket_priority_p1"
    PRIORITY_P2 = "ticket_priority_p2"
    PRIORITY_P3 = "ticket_priority_p3"
    PRIORITY_P4 = "ticket_priority_p4"
    PAUSE = "ticket_pause"
    RESUME = "ticket_resume"
    RESOLVE = "ticket_resolve"
    REOPEN = "ticket_reopen"
    TAKE = "ticket_take"
    EXPLAIN = "ticket_explain"  # a read: a normal Bolt action, not the inbox


class Block(StrEnum):
    """block_id values that code looks up."""

    CARD_HEADER = "ticket_card_header"
    CARD_DUE = "ticket_card_due"
    CARD_ACTIONS = "ticket_card_actions"
    HOME_HEADER = "home_header"


class Callback(StrEnum):
    """callback_id values of shortcuts and views."""

    TRACK_MESSAGE = "track_message_as_ticket"


class Event(StrEnum):
    """Events API event types the bot subscribes to."""

    MESSAGE = "message"
    REACTION_ADDED = "reaction_added"
    APP_HOME_OPENED = "app_home_opened"


PRIORITY_ACTIONS = (Action.PRIORITY_P1, Action.PRIORITY_P2, Action.PRIORITY_P3, Action.PRIORITY_P4)
