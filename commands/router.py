"""The `/sla` router: verb name -> handler, usage errors -> a private answer.

Adding a verb group: write a module exposing `VERBS: tuple[Verb, ...]` and add it to
`VERB_MODULES` below (one line). Usage and permission errors become a private message that
shows the verb's usage; anything else goes to the app's one error handler. The Bolt listener
that acks `/sla` and draws the answer is bot/listeners/sla_command.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from commands import (
    assign,
    digest,
    escalate,
    explain,
    hours,
    policy_verbs,
    report,
    responders,
    share_links,
    simulate,
    status,
    tickets,
    tracking,
)
from commands import help as help_verbs
from commands.deps import Deps
from commands.digest_send import DigestViews
from commands.errors import NotFound, PermissionDenied, UsageError, friendly_message
from commands.parser import parse_command_line
from commands.request import Message, Result, Verb, VerbRequest
from commands.text import plain_message, quote

# Order is the order `/sla help` lists them.
VERB_MODULES = (
    help_verbs, tracking, status, tickets, assign, explain, policy_verbs, hours, escalate,
    responders, report, simulate, digest, share_links,
)

HELP_HINT = "Type `/sla help` to see every verb."
PUBLIC = "public"


class Router:
    """Finds a verb by name or alias and runs it, turning usage errors into private answers."""

    def __init__(self, verbs: Iterable[Verb], *, digest_views: DigestViews | None = None) -> None:
        self._verbs: list[Verb] = []
        self._by_name: dict[str, Verb] = {}
        self._digest_views = digest_views
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
        self, deps: Deps, *, text: str, team_id: str, channel_id: str, user_id: str,
        channel_name: str | None = None,
    ) -> Result:
        """Parse `text` and run the verb; the result's `public` is always decided (a bool)."""
        try:
            line = parse_command_line(text)
        except UsageError as exc:
            return error_message(exc)
        verb = self.find(line.verb)
        if verb is None:
            unknown = quote(line.verb, 40)
            return Message(f":thinking_face: I don't know `{unknown}`. {HELP_HINT}", public=False)
        args, public = line.args, line.public
        if not verb.free_text and any(a.lower() == PUBLIC for a in args):
            # Without free text, `public` anywhere is the flag (`/sla list public breached`).
            args, public = tuple(a for a in args if a.lower() != PUBLIC), True
        request = VerbRequest(
            deps=deps, team_id=team_id, channel_id=channel_id, user_id=user_id,
            verb=verb.name, args=args, public=public, channel_name=channel_name, verbs=self,
            digest_views=self._digest_views,
        )
        try:
            result = verb.handler(request)
        except (UsageError, PermissionDenied, NotFound) as exc:
            return error_message(exc, default_usage=verb.usage_text)
        return result if result.public is not None else replace(result, public=public)


def error_message(exc: Exception, default_usage: str | None = None) -> Message:
    """A private answer saying what was wrong and, for usage errors, the right form."""
    if isinstance(exc, UsageError):
        usage = exc.usage or default_usage
        text = f":warning: {plain_message(exc.message)}"
        if usage:
            text += f"\nUsage: `{usage}`" if "\n" not in usage else f"\nUsage:\n```{usage}```"
        return Message(text, public=False)
    # Refusals and unknown things read exactly as they do from buttons and shortcuts.
    return Message(friendly_message(exc)[0], public=False)


def default_router(digest_views: DigestViews | None = None) -> Router:
    """The router with every verb of every module in VERB_MODULES."""
    return Router((verb for module in VERB_MODULES for verb in module.VERBS),
                  digest_views=digest_views)
