"""`/sla help [verb]`: every verb with its usage, or one verb in detail."""

from __future__ import annotations

from dataclasses import dataclass

from commands.errors import UsageError
from commands.request import Result, Verb, VerbRequest

USAGE = ("/sla help [verb]",)


@dataclass(frozen=True)
class HelpOverview(Result):
    """Every verb, in help order."""

    verbs: tuple[Verb, ...]


@dataclass(frozen=True)
class VerbHelp(Result):
    """One verb in detail."""

    verb: Verb


def handle_help(request: VerbRequest) -> Result:
    """List every verb, or explain the one named."""
    router = request.verbs
    if router is None:
        raise RuntimeError("help needs the router's verbs")
    if not request.args:
        return HelpOverview(router.verbs)
    if len(request.args) > 1:
        raise UsageError("ask about one verb at a time", USAGE[0])
    verb = router.find(request.args[0])
    if verb is None:
        raise UsageError(f"there is no verb `{request.args[0]}`", USAGE[0])
    return VerbHelp(verb)


VERBS = (
    Verb(
        name="help",
        usage=USAGE,
        summary="show every verb, or explain one (`/sla help policy`)",
        handler=handle_help,
    ),
)
