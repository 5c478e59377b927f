"""Small helpers for the `/sla` verb end-to-end tests: ask the bot, read what it answered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.sandbox.slack_api import TEAM_ID
from storage.db import unit_of_work
from storage.models import Ticket, TrackedChannel
from storage.repositories.workspaces import get_or_create_workspace, get_policy
from tests.e2e.conftest import ADMIN, CHANNEL


@dataclass(frozen=True)
class Answer:
    """What the bot posted to the command's response_url."""

    text: str
    blocks: list[dict[str, Any]]
    response_type: str

    @property
    def everything(self) -> str:
        """Fallback text and every block, as one string to search in."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    @property
    def private(self) -> bool:
        """Only the person who typed the command sees it."""
        return self.response_type == "ephemeral"


def ask(bot, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Answer:
    """Send `/sla <text>` exactly as Slack does and return the one answer it got."""
    before = len(bot.fake.calls("response_url"))
    response = bot.slack.slash(text, user=user, channel=channel)
    assert response.status == 200, response.body  # how fast: bench/bench_http.py
    bot.settle()
    calls = bot.fake.calls("response_url")
    assert len(calls) == before + 1, f"expected one answer to /sla {text}, got {calls[before:]}"
    params = calls[-1].params
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return Answer(
        text=params.get("text", ""),
        blocks=blocks,
        response_type=params.get("response_type", ""),
    )


def open_desk(bot):
    """The support channel tracked, with two fresh P3 tickets from the requester (SLA-1 and
    SLA-2, their root messages in `bot.roots`)."""
    ask(bot, "track")
    # Settle between the two: concurrent listeners may number them in either order.
    first, _ = bot.slack.message("Invoices page is blank")
    bot.settle()
    second, _ = bot.slack.message("Can I get a new laptop?")
    bot.settle()
    assert [t.key for t in tickets(bot)] == ["SLA-1", "SLA-2"]
    bot.roots = {"SLA-1": first, "SLA-2": second}
    return bot


def tickets(bot) -> list[Ticket]:
    """Every ticket, by number."""
    with unit_of_work(bot.deps.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.number)))


def channel_row(bot, channel: str = CHANNEL) -> TrackedChannel | None:
    """The stored configuration of a channel."""
    with unit_of_work(bot.deps.engine) as session:
        return session.exec(
            select(TrackedChannel).where(TrackedChannel.channel_id == channel)
        ).first()


def policy_of(bot, channel: str = CHANNEL):
    """The policy in force for a channel."""
    with unit_of_work(bot.deps.engine) as session:
        workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
        return get_policy(session=session, workspace_id=workspace.id, channel_id=channel)
