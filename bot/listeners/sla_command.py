"""The `/sla` listener: ack at once, run the verb (commands/router.py), draw its answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack

from bot.listeners.answers import Respond, errors_to_user
from bot.views.blocks import Block
from bot.views.digest import DIGEST_VIEWS
from bot.views.replies import render
from commands.deps import Deps
from commands.router import Router, default_router


@dataclass(frozen=True)
class Answer:
    """What `/sla` answers: the drawn reply, and whether the whole channel sees it."""

    text: str
    blocks: list[Block] | None
    public: bool


def answer(router: Router, deps: Deps, command: dict[str, Any]) -> Answer:
    """Run the command Slack sent (`text`, `team_id`, ...) and draw the result."""
    result = router.dispatch(
        deps,
        text=command.get("text", ""),
        team_id=command.get("team_id", ""),
        channel_id=command.get("channel_id", ""),
        user_id=command.get("user_id", ""),
        channel_name=command.get("channel_name"),
    )
    reply = render(result)
    return Answer(reply.text, reply.blocks, bool(result.public))


def sla_router() -> Router:
    """Every verb, with the digest drawn by bot/views."""
    return default_router(digest_views=DIGEST_VIEWS)


def make_sla_listener(router: Router | None = None) -> Callable[..., None]:
    """The Bolt listener for `/sla`: ack at once, then answer through `respond`."""
    active = router or sla_router()

    def handle_sla_command(ack: Ack, command: dict[str, Any],
                           respond: Respond, deps: Deps) -> None:
        # Slack wants the ack within 3 s; the work and the real answer come after it.
        ack()
        # Nothing may escape after ack(): Bolt would then answer Slack 404 (answers.py).
        with errors_to_user(respond):
            reply = answer(active, deps, command)
            respond(
                text=reply.text,
                blocks=reply.blocks,
                response_type="in_channel" if reply.public else "ephemeral",
                replace_original=False,
            )

    return handle_sla_command
