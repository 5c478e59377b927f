"""`/sla help [verb]`: every verb with its usage, or one verb in detail."""

from __future__ import annotations

from commands.errors import UsageError
from commands.request import Reply, Verb, VerbRequest

USAGE = ("/sla help [verb]",)


def render_help(verbs: tuple[Verb, ...]) -> Reply:
    """The overview: one section per verb with its usage lines and summary."""
    lines = ["*slabot* keeps this channel's SLA clocks. Verbs:"]
    for verb in verbs:
        admin = " _(admins)_" if verb.admin_only else ""
        usage = "\n   ".join(f"`{u}`" for u in verb.usage)
        lines.append(f"• {usage}{admin}\n      {verb.summary}")
    lines.append("Add `public` at the end to show the answer to the whole channel.")
    text = "\n".join(lines)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in _chunks(lines, limit=2900)
    ]
    return Reply(text=text, blocks=blocks)


def render_verb_help(verb: Verb) -> Reply:
    """One verb: usage, summary and the longer details."""
    usage = "\n".join(verb.usage)
    parts = [f"*/sla {verb.name}*: {verb.summary}", f"```{usage}```"]
    if verb.details:
        parts.append(verb.details)
    if verb.admin_only:
        parts.append("_Only workspace admins and SLABOT_ADMINS can use this._")
    return Reply(text="\n".join(parts))


def _chunks(lines: list[str], limit: int) -> list[str]:
    # A section's text may hold 3000 characters; keep each verb's lines together.
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def handle_help(request: VerbRequest) -> Reply:
    """List every verb, or explain the one named."""
    router = request.verbs
    if not request.args:
        return render_help(router.verbs)
    if len(request.args) > 1:
        raise UsageError("ask about one verb at a time", USAGE[0])
    verb = router.find(request.args[0])
    if verb is None:
        raise UsageError(f"there is no verb `{request.args[0]}`", USAGE[0])
    return render_verb_help(verb)


VERBS = (
    Verb(
        name="help",
        usage=USAGE,
        summary="show every verb, or explain one (`/sla help policy`)",
        handler=handle_help,
    ),
)
