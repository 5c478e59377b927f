"""The small types every `/sla` verb shares: the request a handler gets, its reply, its entry.

Kept apart from commands/router.py so verb modules can import these without importing the
router (which imports every verb module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from commands.permissions import require_admin


@dataclass(frozen=True)
class Reply:
    """What a verb answers: fallback text, optional Block Kit blocks, visibility.

    `public` None follows the user's `public` flag; True/False force it (errors are private).
    """

    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool | None = None


@dataclass(frozen=True)
class VerbRequest:
    """One `/sla` invocation as a handler sees it (already split by the parser)."""

    deps: Any
    team_id: str
    channel_id: str
    user_id: str
    verb: str
    args: tuple[str, ...]
    public: bool = False
    channel_name: str | None = None
    verbs: Any = None  # the Router, so `help` can list every verb

    def require_admin(self, what: str) -> None:
        """Raise PermissionDenied unless the user may change configuration (`what` says what)."""
        require_admin(self.deps, self.user_id, what)


Handler = Callable[[VerbRequest], Reply]


@dataclass(frozen=True)
class Verb:
    """A `/sla` verb: its name, the usage lines shown on bad input, a one-line summary."""

    name: str
    usage: tuple[str, ...]
    summary: str
    handler: Handler
    details: str = ""
    admin_only: bool = False
    aliases: tuple[str, ...] = field(default=())
    free_text: bool = False  # a trailing reason: `public` counts only as the last word

    @property
    def usage_text(self) -> str:
        """All usage lines, one per line."""
        return "\n".join(self.usage)
