"""Looking in Slack for a nudge an earlier attempt may already have posted."""

from __future__ import annotations

import logging

from bot.logs import log_event
from bot.nudge_messages import Delivery, DeliveryKind, NudgeTicket

log = logging.getLogger(__name__)


def find_posted(
    notifier: object, ticket: NudgeTicket, delivery: Delivery, marker: str
) -> bool | None:
    """Did an earlier attempt already post this message? None when Slack cannot tell us.

    A retry may follow a crash or a timeout *after* Slack accepted the message; looking for
    the message's block_id first is what turns "at least once" into "once". A notifier
    without a Slack client (a test's recording one) cannot tell.
    """
    client = getattr(notifier, "client", None)
    if client is None:
        return None
    try:
        if delivery.kind is DeliveryKind.THREAD:
            response = client.conversations_replies(
                channel=ticket.channel_id, ts=ticket.thread_ts, limit=1000
            )
        else:
            channel = delivery.target
            if delivery.kind is DeliveryKind.DM:
                channel = client.conversations_open(users=[delivery.target])["channel"]["id"]
            response = client.conversations_history(channel=channel, limit=200)
    except Exception as exc:  # no history scope, network trouble: fall back to sending
        log_event(
            log,
            logging.WARNING,
            "could not check for an earlier post",
            destination=delivery.key,
            error=type(exc).__name__,
        )
        return None
    return any(
        block.get("block_id") == marker
        for message in response.get("messages") or ()
        for block in message.get("blocks") or ()
    )
