"""The nudge sender: outbox rows to Slack messages, each destination reached exactly once.

`send_pending_nudges` claims due rows of the outbox (storage/repositories/nudges.py) under a
lease, re-checks the ticket (resolved, paused, or its metric stopped since the nudge was
planned: cancelled), delivers to every destination through bot/nudge_messages.py, recording
each one as it is reached, and retries or fails the rest by how Slack answered. A retry first
looks for the message it may already have posted (its block_id marker), so a crash after
Slack accepted a message never posts it twice.
"""

from bot.nudges.options import SenderOptions, SendReport
from bot.nudges.outcome import cancel_reason_label
from bot.nudges.sender import send_pending_nudges

__all__ = ["SendReport", "SenderOptions", "cancel_reason_label", "send_pending_nudges"]
