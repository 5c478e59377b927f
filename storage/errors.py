"""Storage errors: ValueErrors with a message a person can act on."""

from __future__ import annotations

from storage.models import Ticket


class StorageError(ValueError):
    """Stored data cannot be used or written as asked."""


class NotFound(StorageError, LookupError):
    """The row asked for does not exist."""


class DuplicateTicket(StorageError):
    """The Slack message is already a ticket.

    ``ticket`` is the existing row (usable inside the unit of work); ``ticket_id``, ``key``,
    ``thread_ts`` and ``card_ts`` are plain copies that stay readable after the unit of
    work rolled back.
    """

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(
            f"message {ticket.message_ts} in channel {ticket.channel_id} is already "
            f"ticket {ticket.key}"
        )
        self.ticket = ticket
        self.ticket_id: int | None = ticket.id
        self.key: str = ticket.key
        self.channel_id: str = ticket.channel_id
        self.thread_ts: str = ticket.thread_ts
        self.card_ts: str | None = ticket.card_ts


class InvalidStoredPolicy(StorageError):
    """A policy row's spec no longer builds a valid policy."""
