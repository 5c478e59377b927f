"""Block Kit pieces and Slack's message limits, shared by every view.

Slack rejects a message over its Block Kit limits, so builders cut their texts here and
`check_block_kit_limits` states the limits the tests hold the digest and report to; `fit_text`
and `fit_blocks` hold every `/sla` answer to 3,000 characters whatever a view quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands.text import MAX_REPLY_CHARS, clip

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
# `/sla` replies keep a margin below Slack's section limit.
REPLY_SECTION_TEXT = 2900


@dataclass(frozen=True)
class Reply:
    """A drawn answer: the notification (fallback) text and, optionally, Block Kit blocks."""

    text: str
    blocks: list[Block] | None = None


class BlockKitLimitError(ValueError):
    """Blocks that Slack would reject; the message lists every limit broken."""


def section(text: str, limit: int = MAX_SECTION_TEXT) -> Block:
    """A mrkdwn section, cut to `limit` characters."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:limit]}}


def context(text: str) -> Block:
    """A context block of one mrkdwn element."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}]}


def header(text: str) -> Block:
    """A plain-text header."""
    return {"type": "header", "text": {"type": "plain_text", "text": text[:MAX_HEADER_TEXT]}}


def fields(texts: Sequence[str]) -> Block:
    """A section of mrkdwn fields (two columns in Slack)."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": t[:MAX_FIELD_TEXT]} for t in texts[:MAX_FIELDS]],
    }


def list_text(title: str, lines: Sequence[str], *, max_items: int = 10,
              limit: int = MAX_SECTION_TEXT) -> str:
    """A titled list of at most `max_items` lines that fits a section of `limit` characters,
    then how many more there are."""
    kept = [title]
    for line in lines[:max_items]:
        # Keep room for the "and N more" line so the section stays under the limit.
        if sum(len(x) + 1 for x in kept) + len(line) > limit - 40:
            break
        kept.append(line)
    if len(kept) - 1 < len(lines):
        kept.append(f"…and {len(lines) - (len(kept) - 1)} more")
    return "\n".join(kept)


def check_block_kit_limits(blocks: Sequence[Block]) -> None:
    """Raise BlockKitLimitError unless `blocks` fit Slack's message limits."""
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (max {MAX_BLOCKS})")
    for index, block in enumerate(blocks):
        problems += _block_problems(index, block)
    if problems:
        raise BlockKitLimitError("blocks exceed Slack limits: " + "; ".join(problems))


def _block_problems(index: int, block: Block) -> list[str]:
    kind = block.get("type")
    problems = []
    if kind == "section":
        text = block.get("text", {}).get("text", "")
        if len(text) > MAX_SECTION_TEXT:
            problems.append(f"block {index}: section text of {len(text)} chars")
        found = block.get("fields", [])
        if len(found) > MAX_FIELDS:
            problems.append(f"block {index}: {len(found)} fields")
        problems += [
            f"block {index}: field of {len(f['text'])} chars"
            for f in found
            if len(f["text"]) > MAX_FIELD_TEXT
        ]
        if not text and not found:
            problems.append(f"block {index}: empty section")
    elif kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
        problems.append(f"block {index}: header of {len(block['text']['text'])} chars")
    elif kind == "context" and len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
        problems.append(f"block {index}: {len(block['elements'])} context elements")
    return problems


def fit_text(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return clip(text, limit)


def fit_blocks(blocks: list[Block] | None, limit: int = MAX_REPLY_CHARS) -> list[Block] | None:
    """Blocks whose every text holds at most `limit` characters (Slack's section limit)."""
    if blocks is None:
        return None
    return [_fit_value(block, limit) for block in blocks]


def _fit_value(value: Any, limit: int) -> Any:
    if isinstance(value, dict):
        return {
            key: fit_text(item, limit) if key == "text" and isinstance(item, str)
            else _fit_value(item, limit)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_fit_value(item, limit) for item in value]
    return value
