"""The one registry of how a command's result is drawn: result type -> renderer.

Every `/sla` answer and every listener's reply goes through `render`: a new result type
gets one line here. The drawn reply is held to Slack's 3,000 characters per text.
"""

from __future__ import annotations

from functools import singledispatch

from bot.views.blocks import Reply, fit_blocks, fit_text
from bot.views.digest import preview_reply, report_reply
from bot.views.explain import ledger_reply
from bot.views.help import render_help, render_verb_help
from bot.views.policy import credits_reply, nudges_reply, policy_reply
from bot.views.simulation import simulation_reply
from bot.views.status import status_reply
from bot.views.tickets import (
    assigned_reply,
    detail_reply,
    list_reply,
    moved_reply,
    priority_reply,
)
from commands.assign import TicketAssigned
from commands.digest import DigestPreview
from commands.explain import LedgerResult
from commands.help import HelpOverview, VerbHelp
from commands.policy_verbs import CreditsChanged, NudgesChanged, PolicyShown
from commands.report import ReportResult
from commands.request import Message, Result
from commands.simulate import SimulationResult
from commands.status import StatusResult
from commands.tickets import PriorityChanged, TicketDetail, TicketList, TicketMoved


@singledispatch
def _draw(result: Result) -> Reply:
    raise TypeError(f"no view draws {type(result).__name__}")


def _message(result: Message) -> Reply:
    return Reply(result.text)


_draw.register(Message, _message)
_draw.register(HelpOverview, render_help)
_draw.register(VerbHelp, render_verb_help)
_draw.register(StatusResult, status_reply)
_draw.register(TicketList, list_reply)
_draw.register(TicketDetail, detail_reply)
_draw.register(TicketMoved, moved_reply)
_draw.register(PriorityChanged, priority_reply)
_draw.register(TicketAssigned, assigned_reply)
_draw.register(LedgerResult, ledger_reply)
_draw.register(PolicyShown, policy_reply)
_draw.register(NudgesChanged, nudges_reply)
_draw.register(CreditsChanged, credits_reply)
_draw.register(ReportResult, report_reply)
_draw.register(SimulationResult, simulation_reply)
_draw.register(DigestPreview, preview_reply)


def render(result: Result) -> Reply:
    """The reply drawn for `result`, every text held to Slack's limit."""
    reply = _draw(result)
    return Reply(fit_text(reply.text), fit_blocks(reply.blocks))
