"""The nudge sender: outbox rows to Slack messages, each destination reached exactly once."""

from bot.nudges.options import SenderOptions, SendReport
from bot.nudges.outcome import cancel_reason_label
from bot.nudges.sender import send_pending_nudges

__all__ = ["SendReport", "SenderOptions", "cancel_reason_label", "send_pending_nudges"]
