"""`/sla portal share|links|revoke`: read-only customer links to a channel's compliance page.

The link carries a random token; the database keeps only its SHA-256, so a leaked table opens
nothing. The page a link opens is drawn by bot/portal from commands/portal.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.deps import Deps, PortalSettings
from commands.errors import UsageError
from commands.parser import parse_channel
from commands.request import Message, Verb, VerbRequest
from commands.text import channel_mention
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories import share_links as share_repo

DEFAULT_SHARE_DAYS = 90
MAX_SHARE_DAYS = 366
_DAYS = re.compile(r"^\d{1,4}d$")

SHARE_USAGE = "/sla portal share #channel [expires=90d] [details=on|off]"
LINKS_USAGE = "/sla portal links"
REVOKE_USAGE = "/sla portal revoke N"
USAGE = (SHARE_USAGE, LINKS_USAGE, REVOKE_USAGE)


def token_hash(token: str) -> str:
    """What the database keeps of a share token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SharedChannel:
    """What a live share link opens: one channel, with or without ticket titles."""

    link_id: int
    team_id: str
    channel_id: str
    details: bool
    expires_at: datetime


def open_share_link(deps: Deps, token: str) -> SharedChannel | None:
    """The channel a token opens, or None (unknown, revoked or expired: all look the same)."""
    if not token or len(token) > 200:
        return None
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        row = share_repo.find_live_share_link(session=session, token_sha256=token_hash(token),
                                              now=now)
        if row is None:
            return None
        workspace = repo.get_workspace_by_id(session=session, workspace_id=row.workspace_id)
        return SharedChannel(stored_id(row), workspace.team_id, row.channel_id, row.details,
                             row.expires_at)


def handle_portal(request: VerbRequest) -> Message:
    """Dispatch `/sla portal <share|links|revoke>`."""
    if not request.args:
        raise UsageError("say what to do: share, links or revoke", "\n".join(USAGE))
    sub, rest = request.args[0].lower(), request.args[1:]
    handlers = {"share": _share, "links": _links, "revoke": _revoke}
    if sub not in handlers:
        raise UsageError(f"`{request.args[0][:40]}` is not a portal action", "\n".join(USAGE))
    request.require_admin("manage the portal's customer links")
    return handlers[sub](request, rest)


def _portal_settings(request: VerbRequest) -> PortalSettings:
    portal: PortalSettings | None = getattr(request.deps.settings, "portal", None)
    if portal is None:
        raise UsageError(
            "the portal is off: set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLABOT_PUBLIC_URL "
            "and SLABOT_SESSION_SECRET (see .env.example) and restart the bot",
            SHARE_USAGE,
        )
    return portal


def _share(request: VerbRequest, args: tuple[str, ...]) -> Message:
    portal = _portal_settings(request)
    channel_id, days, details = None, DEFAULT_SHARE_DAYS, False
    for token in args:
        word = token.lower()
        if word.startswith("expires="):
            value = word.split("=", 1)[1]
            if not _DAYS.match(value) or not 1 <= int(value[:-1]) <= MAX_SHARE_DAYS:
                raise UsageError(f"expires must be 1d to {MAX_SHARE_DAYS}d, like expires=90d",
                                 SHARE_USAGE)
            days = int(value[:-1])
        elif word.startswith("details="):
            value = word.split("=", 1)[1]
            if value not in ("on", "off"):
                raise UsageError("details must be on or off", SHARE_USAGE)
            details = value == "on"
        elif channel_id is None:
            ref = parse_channel(token, SHARE_USAGE)
            if ref.id is None:
                raise UsageError("pick the channel from Slack's list so I get its id",
                                 SHARE_USAGE)
            channel_id = ref.id
        else:
            raise UsageError(f"I did not expect `{token[:40]}` here", SHARE_USAGE)
    if channel_id is None:
        raise UsageError("say which channel to share", SHARE_USAGE)
    token = secrets.token_urlsafe(32)
    now = request.deps.clock.now()
    expires = now + timedelta(days=days)
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = share_repo.add_share_link(
            session=session, workspace_id=stored_id(workspace), channel_id=channel_id,
            token_sha256=token_hash(token), details=details, created_by=request.user_id,
            created_at=now, expires_at=expires,
        )
        number = row.id
    url = f"{portal.public_url}/portal/s/{token}"
    what = "with ticket titles" if details else "without ticket titles"
    text = (
        f":link: Link {number} to {channel_mention(channel_id)}'s SLA compliance, {what}, "
        f"read-only, until {expires:%Y-%m-%d %H:%M} UTC:\n{url}\n"
        f"Anyone with the link can open it; end it with `/sla portal revoke {number}`. "
        "This is the only time the link is shown."
    )
    # The link is a secret: it never goes to the channel, whatever `public` said.
    return Message(text, public=False)


def _links(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if args:
        raise UsageError(f"I did not expect `{args[0][:40]}` here", LINKS_USAGE)
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        rows = share_repo.list_share_links(session=session, workspace_id=stored_id(workspace))
        lines = []
        for row in rows:
            if row.revoked_at is not None:
                state = f"revoked {row.revoked_at:%Y-%m-%d}"
            elif row.expires_at <= now:
                state = f"expired {row.expires_at:%Y-%m-%d}"
            else:
                state = f"live until {row.expires_at:%Y-%m-%d}"
            titles = "titles on" if row.details else "titles off"
            lines.append(f"{row.id}. {channel_mention(row.channel_id)} · {titles} · {state} "
                         f"· by <@{row.created_by}>")
    if not lines:
        return Message("No customer links yet. Make one with `" + SHARE_USAGE + "`.")
    return Message("*Customer links*\n" + "\n".join(lines))


def _revoke(request: VerbRequest, args: tuple[str, ...]) -> Message:
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 12:
        raise UsageError("say which link to end, by its number in `/sla portal links`",
                         REVOKE_USAGE)
    now = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        row = share_repo.revoke_share_link(session=session, workspace_id=stored_id(workspace),
                                           link_id=int(args[0]), by=request.user_id, now=now)
        if row is None:
            raise UsageError(f"there is no link {args[0]}; see `/sla portal links`",
                             REVOKE_USAGE)
        channel = row.channel_id
    return Message(f":no_entry: Link {args[0]} to {channel_mention(channel)} is ended: "
                   "it opens nothing from now on.")


VERBS = (
    Verb(
        name="portal",
        usage=USAGE,
        summary="customer links to a channel's SLA compliance page (admins)",
        details="`share` answers with a read-only link to the channel's compliance, credits "
        "and trend, valid 90 days unless `expires=` says otherwise; `details=on` shows ticket "
        "titles. `links` lists them, `revoke N` ends one at once.",
        handler=handle_portal,
        admin_only=True,
    ),
)
