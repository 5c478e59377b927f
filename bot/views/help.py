"""`/sla help`: every verb with its usage lines, or one verb in detail."""

from __future__ import annotations

from bot.views.blocks import Reply, section
from commands.help import HelpOverview, VerbHelp

# A section holds 3000 characters; each keeps a margin and a verb's lines together.
_CHUNK_CHARS = 2900


def render_help(result: HelpOverview) -> Reply:
    """The overview: one section per chunk of verbs, each with its usage lines and summary."""
    lines = ["*slabot* keeps this channel's SLA clocks. Verbs:"]
    for verb in result.verbs:
        admin = " _(admins)_" if verb.admin_only else ""
        usage = "\n   ".join(f"`{u}`" for u in verb.usage)
        lines.append(f"• {usage}{admin}\n      {verb.summary}")
    lines.append("Add `public` at the end to show the answer to the whole channel.")
    blocks = [section(chunk) for chunk in _chunks(lines, limit=_CHUNK_CHARS)]
    return Reply("\n".join(lines), blocks)


def render_verb_help(result: VerbHelp) -> Reply:
    """One verb: usage, summary and the longer details."""
    verb = result.verb
    usage = "\n".join(verb.usage)
    parts = [f"*/sla {verb.name}*: {verb.summary}", f"```{usage}```"]
    if verb.details:
        parts.append(verb.details)
    if verb.admin_only:
        parts.append("_Only workspace admins and SLABOT_ADMINS can use this._")
    return Reply("\n".join(parts))


def _chunks(lines: list[str], limit: int) -> list[str]:
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
