"""The `/sla` router: verb name -> handler, and the Bolt listener that acks and replies.

Adding a verb group: write a module exposing `VERBS: tuple[Verb, ...]` and add it to
`VERB_MODULES` below (one line). Usage and permission errors become a private reply that
shows the verb's usage; anything else goes to the app's one error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from commands import (
    digest,
    escalate,
    explain,
    hours,
    policy_verbs,
    portal,
    report,
    responders,
    simulate,
    status,
    tickets,
    tracking,
)
from commands import help as help_verbs
from commands.errors import (
    NotFound,
    PermissionDenied,
    UsageError,
    errors_to_user,
    friendly_message,
)
from commands.parser import parse_command_line
from commands.request import Reply, Verb, VerbRequest
from commands.text import fit_blocks, fit_text, plain_message, quote

log = logging.getLogger(__name__)

# Order is the order `/sla help` lists them.
VERB_MODULES = (
    help_verbs, tracking, status, tickets, explain, policy_verbs, hours, escalate, responders,
    report, simulate, digest, portal,
)

HELP_HINT = "Type `/sla help` to see every verb."
PUBLIC = "public"


class Router:
    """Finds a verb by name or alias and runs it, turning usage errors into private replies."""

    def __init__(self, verbs: Iterable[Verb]) -> None:
        self._verbs: list[Verb] = []
        self._by_name: dict[str, Verb] = {}
        for verb in verbs:
            for name in (verb.name, *verb.aliases):
                if name in self._by_name:
                    raise ValueError(f"verb {name!r} is registered twice")
                self._by_name[name] = verb
            self._verbs.append(verb)

    @property
    def verbs(self) -> tuple[Verb, ...]:
        """Every verb, in help order."""
        return tuple(self._verbs)

    def find(self, name: str) -> Verb | None:
        """The verb called `name` (or with that alias), if any."""
        return self._by_name.get(name.lower())

    def dispatch(
        self, deps: Any, *, text: str, team_id: str, channel_id: str, user_id: str,
        channel_name: str | None = None,
    ) -> Reply:
        """Parse `text`, run the verb, and return the reply to send (held to Slack's limits)."""
        reply = self._dispatch(deps, text=text, team_id=team_id, channel_id=channel_id,
                               user_id=user_id, channel_name=channel_name)
        # One place holds every reply to 3,000 characters, whatever a verb or error quoted.
        return Reply(text=fit_text(reply.text), blocks=fit_blocks(reply.blocks),
                     public=reply.public)

    def _dispatch(
        self, deps: Any, *, text: str, team_id: str, channel_id: str, user_id: str,
        channel_name: str | None,
    ) -> Reply:
        try:
            line = parse_command_line(text)
        except UsageError as exc:
            return error_reply(exc)
        verb = self.find(line.verb)
        if verb is None:
            unknown = quote(line.verb, 40)
            text = f":thinking_face: I don't know `{unknown}`. {HELP_HINT}"
            return Reply(text=text, public=False)
        args, public = line.args, line.public
        if not verb.free_text and any(a.lower() == PUBLIC for a in args):
            # Without free text, `public` anywhere is the flag (`/sla list public breached`).
            args, public = tuple(a for a in args if a.lower() != PUBLIC), True
        request = VerbRequest(
            deps=deps, team_id=team_id, channel_id=channel_id, user_id=user_id,
            verb=verb.name, args=args, public=public, channel_name=channel_name, verbs=self,
        )
        try:
            reply = verb.handler(request)
        except (UsageError, PermissionDenied, NotFound) as exc:
            return error_reply(exc, default_usage=verb.usage_text)
        if reply.public is None:
            return Reply(text=reply.text, blocks=reply.blocks, public=public)
        return reply


def error_reply(exc: Exception, default_usage: str | None = None) -> Reply:
    """A private reply saying what was wrong and, for usage errors, the right form."""
    if isinstance(exc, UsageError):
        usage = exc.usage or default_usage
        text = f":warning: {plain_message(exc.message)}"
        if usage:
            text += f"\nUsage: `{usage}`" if "\n" not in usage else f"\nUsage:\n```{usage}```"
        return Reply(text=text, public=False)
    # Refusals and unknown things read exactly as they do from buttons and shortcuts.
    return Reply(text=friendly_message(exc)[0], public=False)


def default_router() -> Router:
    """The router with every verb of every module in VERB_MODULES."""
    return Router(verb for module in VERB_MODULES for verb in module.VERBS)


def make_sla_listener(router: Router | None = None) -> Callable[..., None]:
    """The Bolt listener for `/sla`: ack at once, then answer through `respond`."""
    active = router or default_router()

    def handle_sla_command(ack: Callable[..., Any], command: dict[str, Any],
                           respond: Callable[..., Any], deps: Any) -> None:
        # Slack wants the ack within 3 s; the work and the real answer come after it.
        ack()
        # Nothing may escape after ack(): Bolt would then answer Slack 404 (commands/errors.py).
        with errors_to_user(respond):
            reply = active.dispatch(
                deps,
                text=command.get("text", ""),
                team_id=command.get("team_id", ""),
                channel_id=command.get("channel_id", ""),
                user_id=command.get("user_id", ""),
                channel_name=command.get("channel_name"),
            )
            respond(
                text=reply.text,
                blocks=reply.blocks,
                response_type="in_channel" if reply.public else "ephemeral",
                replace_original=False,
            )

    return handle_sla_command
