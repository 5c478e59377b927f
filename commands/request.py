"""The small types every `/sla` verb shares: the request a handler gets, what it returns,
its entry in the router.

A handler returns a typed `Result` (never Block Kit): bot/views draws it. Kept apart from
commands/router.py so verb modules can import these without importing the router (which
imports every verb module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from commands.deps import Deps
from commands.permissions import require_admin

if TYPE_CHECKING:
    from commands.digest_send import DigestViews


@dataclass(frozen=True, kw_only=True)
class Result:
    """What a verb answers, as data. `public` None follows the user's `public` flag;
    True/False force it (refusals and secrets are private)."""

    public: bool | None = None


@dataclass(frozen=True)
class Message(Result):
    """A plain mrkdwn answer, made safe with commands.text."""

    text: str


class VerbCatalog(Protocol):
    """What `help` needs of the router: every verb, and one by name."""

    @property
    def verbs(self) -> tuple[Verb, ...]: ...

    def find(self, name: str) -> Verb | None: ...


@dataclass(frozen=True)
class VerbRequest:
    """One `/sla` invocation as a handler sees it (already split by the parser)."""

    deps: Deps
    team_id: str
    channel_id: str
    user_id: str
    verb: str
    args: tuple[str, ...]
    public: bool = False
    channel_name: str | None = None
    verbs: VerbCatalog | None = None
    # How a digest a verb queues is drawn (bot/views: commands never import bot/).
    digest_views: DigestViews | None = None

    def require_admin(self, what: str) -> None:
        """Raise PermissionDenied unless the user may change configuration (`what` says what)."""
        require_admin(self.deps, self.user_id, what)


Handler = Callable[[VerbRequest], Result]


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
