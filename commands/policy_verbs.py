"""`/sla policy` (show), `/sla policy set ...` and `/sla policy nudges ...` for this channel.

Changes are saved as the channel's own policy, starting from the policy in force (the
channel's, else the workspace default, else the stock one), so other channels never change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise

from sqlmodel import Session

from commands.cards import queue_card_update
from commands.errors import UsageError
from commands.parser import OFF_WORDS, clip, parse_duration_arg, parse_no_args, parse_priority
from commands.request import Message, Result, Verb, VerbRequest
from sla.clock import TicketClock, compute_clock
from sla.durations import format_business_duration
from sla.events import ClockError
from sla.policy import Policy
from sla.targets import CreditTier, Metric, PolicyError, Priority
from storage import repositories as repo
from storage.models import Ticket, stored_id

log = logging.getLogger(__name__)

SHOW_USAGE = "/sla policy"
SET_USAGE = "/sla policy set P1 first-response=15m resolution=4h [next-response=1h|off]"
NUDGES_USAGE = "/sla policy nudges 50% 80% [re-escalate=2h|off]"
CREDITS_SET_USAGE = "/sla policy credits 95%=5% 90%=10%"
CREDITS_OFF_USAGE = "/sla policy credits off"
CREDITS_USAGE = f"{CREDITS_SET_USAGE}  or  {CREDITS_OFF_USAGE}"
# Open tickets of one channel re-measured after a change (far more than a channel holds).
MAX_REMEASURED = 5_000
_METRIC_WORDS = {
    Metric.FIRST_RESPONSE: "first response",
    Metric.RESOLUTION: "resolution",
    Metric.NEXT_RESPONSE: "next response",
}


@dataclass(frozen=True)
class ChannelSettings:
    """What `/sla policy` shows besides the policy: tracking and escalation targets."""

    channel_id: str
    tracking: bool
    default_priority: Priority | None
    escalation_channel_ids: tuple[str, ...]
    manager_user_ids: tuple[str, ...]
    own_policy: bool
    responder_user_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyShown(Result):
    """A channel's policy in force and its settings."""

    policy: Policy
    settings: ChannelSettings


@dataclass(frozen=True)
class NudgesChanged(Result):
    """A channel's nudges after `/sla policy nudges`."""

    channel_id: str
    policy: Policy


@dataclass(frozen=True)
class CreditsChanged(Result):
    """A channel's service credit tiers after `/sla policy credits`."""

    channel_id: str
    policy: Policy


# -- grammar ----------------------------------------------------------------------------------


_METRIC_NAMES = {
    "first-response": Metric.FIRST_RESPONSE,
    "first_response": Metric.FIRST_RESPONSE,
    "response": Metric.FIRST_RESPONSE,
    "resolution": Metric.RESOLUTION,
    "resolve": Metric.RESOLUTION,
    "next-response": Metric.NEXT_RESPONSE,
    "next_response": Metric.NEXT_RESPONSE,
}


@dataclass(frozen=True)
class PolicySetArgs:
    """`policy set P1 first-response=15m resolution=4h [next-response=1h|off]`."""

    priority: Priority
    targets: dict[Metric, timedelta | None]


def parse_policy_set(args: tuple[str, ...], usage: str) -> PolicySetArgs:
    """A priority and at least one `metric=duration` pair (`next-response=off` switches it off)."""
    if not args:
        raise UsageError("which priority? Start with P1..P4", usage)
    priority = parse_priority(args[0], usage)
    targets: dict[Metric, timedelta | None] = {}
    for token in args[1:]:
        name, sep, value = token.partition("=")
        metric = _METRIC_NAMES.get(name.lower())
        if not sep or metric is None:
            raise UsageError(
                f"`{clip(token)}` is not a target: use first-response=15m, resolution=4h "
                "or next-response=1h",
                usage,
            )
        if metric in targets:
            raise UsageError(f"{clip(name)} is given twice", usage)
        if metric is Metric.NEXT_RESPONSE and value.lower() in OFF_WORDS:
            targets[metric] = None
        else:
            targets[metric] = parse_duration_arg(value, name.lower(), usage)
    if not targets:
        raise UsageError(f"what should {priority} change? Give at least one target", usage)
    return PolicySetArgs(priority=priority, targets=targets)


@dataclass(frozen=True)
class NudgesArgs:
    """`policy nudges 50% 80% [re-escalate=2h|off]`; the breach (100%) is always nudged.

    `fractions` empty means keep the thresholds; `set_reescalate` False means keep the
    re-escalation interval (`reescalate` None with `set_reescalate` switches it off).
    """

    fractions: tuple[float, ...]
    reescalate: timedelta | None = None
    set_reescalate: bool = False


def parse_policy_nudges(args: tuple[str, ...], usage: str) -> NudgesArgs:
    """Percentages of the target (1-100) and an optional re-escalation interval."""
    fractions: list[float] = []
    reescalate: timedelta | None = None
    set_reescalate = False
    for token in args:
        name, sep, value = token.partition("=")
        if not sep:
            fractions.append(_parse_percent(token, usage))
            continue
        if name.lower().replace("_", "-") not in ("re-escalate", "reescalate"):
            raise UsageError(f"`{clip(token)}` is not a nudge setting: use re-escalate=2h", usage)
        if set_reescalate:
            raise UsageError("re-escalate is given twice", usage)
        set_reescalate = True
        if value.lower() not in OFF_WORDS:
            reescalate = parse_duration_arg(value, "re-escalate", usage)
    if not fractions and not set_reescalate:
        raise UsageError("give the nudge thresholds as percentages, like 50% 80%", usage)
    if len(set(fractions)) != len(fractions):
        raise UsageError("each threshold may appear once", usage)
    return NudgesArgs(
        fractions=tuple(sorted(fractions)), reescalate=reescalate, set_reescalate=set_reescalate
    )


def with_nudges(policy: Policy, nudges: NudgesArgs) -> Policy:
    """`policy` with the thresholds and re-escalation `nudges` gives (the rest kept)."""
    fractions = nudges.fractions or tuple(
        rule.fraction for rule in policy.nudges if rule.fraction < 1
    )
    if nudges.set_reescalate:
        return policy.with_nudges(fractions, nudges.reescalate)
    return policy.with_nudges(fractions)


def _parse_percent(token: str, usage: str) -> float:
    text = token.rstrip("%")
    try:
        percent = float(text)
    except ValueError:
        raise UsageError(f"`{clip(token)}` is not a percentage: write it like 80%", usage) from None
    if not (math.isfinite(percent) and 0 < percent <= 100):
        raise UsageError(f"`{clip(token)}`: a nudge threshold must be between 1% and 100%", usage)
    return percent / 100


def parse_policy_credits(args: tuple[str, ...], usage: str) -> tuple[tuple[float, float], ...]:
    """`95%=5% 90%=10%`: (below %, credit %) pairs, most lenient first; `off` gives none."""
    if len(args) == 1 and args[0].lower() in OFF_WORDS:
        return ()
    if not args:
        raise UsageError("give the credit tiers as compliance%=credit%, like 95%=5%", usage)
    tiers: dict[float, float] = {}
    for token in args:
        below, sep, credit = token.partition("=")
        if not sep:
            raise UsageError(
                f"`{clip(token)}` is not a credit tier: write it like 95%=5% (below 95% "
                "compliance, 5% credit)", usage)
        below_percent = _parse_share(below, token, "compliance", usage)
        credit_percent = _parse_share(credit, token, "credit", usage)
        if below_percent in tiers:
            raise UsageError(f"{below_percent:g}% is given twice", usage)
        tiers[below_percent] = credit_percent
    ordered = sorted(tiers.items(), key=lambda item: -item[0])
    for (_, more_lenient), (below_at, credit_at) in pairwise(ordered):
        if credit_at < more_lenient:
            raise UsageError(
                f"below {below_at:g}% the credit ({credit_at:g}%) must be at least that of the "
                f"tier above it ({more_lenient:g}%)", usage)
    return tuple(ordered)


def _parse_share(text: str, token: str, what: str, usage: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise UsageError(f"`{clip(token)}`: the {what} must be a percentage", usage) from None
    if not (math.isfinite(value) and 0 < value <= 100):
        raise UsageError(f"`{clip(token)}`: the {what} must be between 0% and 100%", usage)
    return value


def channel_settings(session: Session, workspace_id: int, channel_id: str) -> ChannelSettings:
    """Tracking and escalation settings of a channel (defaults when never configured)."""
    row = repo.get_channel(session=session, workspace_id=workspace_id, channel_id=channel_id)
    if row is None:
        return ChannelSettings(channel_id, False, None, (), (), own_policy=False)
    return ChannelSettings(
        channel_id=channel_id,
        tracking=row.tracking,
        default_priority=Priority(row.default_priority) if row.default_priority else None,
        escalation_channel_ids=tuple(row.escalation_channel_ids),
        manager_user_ids=tuple(row.manager_user_ids),
        own_policy=row.policy_id is not None,
        responder_user_ids=tuple(row.responder_user_ids or ()),
    )


def handle_policy(request: VerbRequest) -> Result:
    """Show the channel's policy, or route to `set` / `nudges`."""
    sub = request.args[0].lower() if request.args else None
    if sub == "set":
        return _set_targets(request, request.args[1:])
    if sub == "nudges":
        return _set_nudges(request, request.args[1:])
    if sub == "credits":
        return _set_credits(request, request.args[1:])
    if sub not in (None, "show"):
        raise UsageError(f"`{request.args[0]}` is not a policy action: use set, nudges or credits",
                         "\n".join(USAGES))
    parse_no_args(request.args[1:], SHOW_USAGE)
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        policy = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id
        )
        settings = channel_settings(session, workspace_id, request.channel_id)
    return PolicyShown(policy, settings)


def update_channel_policy(request: VerbRequest, change: Callable[[Policy], Policy]) -> Policy:
    """Apply `change(policy) -> policy` to the channel's policy in one unit of work, and
    re-measure the channel's open tickets against it (stored due times, and their cards queued)."""
    deps = request.deps
    now = deps.clock.now()
    with deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        current = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id
        )
        updated = change(current)
        repo.save_policy(
            session=session, workspace_id=workspace_id, policy=updated,
            channel_id=request.channel_id,
        )
        # Clocks are always computed with the policy in force, but /sla list, /sla status and
        # the scheduler read the stored due columns: without this they keep the old targets
        # and hours until each ticket happens to change.
        moved = _remeasure_open_tickets(session, workspace_id, request.channel_id, updated, now)
        for ticket, _clock in moved:
            queue_card_update(session, ticket, now)
    if moved:
        deps.wake_outbox()
        deps.wake_scheduler()
    return updated


def _remeasure_open_tickets(
    session: Session, workspace_id: int, channel_id: str, policy: Policy, now: datetime
) -> list[tuple[Ticket, TicketClock]]:
    moved = []
    for ticket in repo.list_open_tickets(
        session=session, workspace_id=workspace_id, channel_id=channel_id,
        limit=MAX_REMEASURED,
    ):
        try:
            clock = compute_clock(
                repo.load_clock_events(session=session, ticket_id=stored_id(ticket)), policy, now
            )
        except ClockError as exc:
            # One ticket with a broken history must not block a policy change.
            log.warning("kept the stored clock of %s: %s", ticket.key, exc)
            continue
        repo.apply_clock(session=session, ticket=ticket, clock=clock, policy=policy)
        moved.append((ticket, clock))
    return moved


def _set_targets(request: VerbRequest, args: tuple[str, ...]) -> Message:
    parsed = parse_policy_set(args, SET_USAGE)
    request.require_admin("change SLA targets")

    def change(policy: Policy) -> Policy:
        try:
            # All at once: `first-response=5h resolution=8h` is fine whatever the order.
            policy = policy.with_targets(parsed.priority, parsed.targets)
        except PolicyError as exc:
            raise UsageError(str(exc), SET_USAGE) from None
        return policy

    policy = update_channel_policy(request, change)
    targets = policy.targets[parsed.priority]
    described = []
    for metric in parsed.targets:
        value = targets.get(metric)
        described.append(
            f"{_METRIC_WORDS[metric]} {format_business_duration(value) if value else 'off'}"
        )
    return Message(
        f":white_check_mark: {parsed.priority} targets for <#{request.channel_id}> are now "
        f"{', '.join(described)} (business time). Open tickets here use them from now on."
    )


def _set_nudges(request: VerbRequest, args: tuple[str, ...]) -> NudgesChanged:
    parsed = parse_policy_nudges(args, NUDGES_USAGE)
    request.require_admin("change nudges")

    def change(policy: Policy) -> Policy:
        try:
            return with_nudges(policy, parsed)
        except PolicyError as exc:
            raise UsageError(str(exc), NUDGES_USAGE) from None

    return NudgesChanged(request.channel_id, update_channel_policy(request, change))


def _set_credits(request: VerbRequest, args: tuple[str, ...]) -> CreditsChanged:
    tiers = parse_policy_credits(args, CREDITS_USAGE)
    request.require_admin("change service credits")

    def change(policy: Policy) -> Policy:
        return replace(policy, credit_tiers=tuple(CreditTier(b, c) for b, c in tiers))

    return CreditsChanged(request.channel_id, update_channel_policy(request, change))


USAGES = (SHOW_USAGE, SET_USAGE, NUDGES_USAGE, CREDITS_SET_USAGE, CREDITS_OFF_USAGE)

VERBS = (
    Verb(
        name="policy",
        usage=USAGES,
        summary="show this channel's SLA policy, or change its targets, nudges and credits",
        details="Targets are business time (see `/sla hours`): `d` is 24 business hours. "
        "`next-response` measures the team's answer after each requester reply; `off` turns "
        "it off; resolution may not be shorter than first response. Nudges are percentages "
        "of a target; the breach (100%) is always announced, re-escalated at most every 15m. "
        "Credits: `95%=5%` means a 5% service credit when resolution compliance in a "
        "report's period is below 95%; the lowest tier reached applies. "
        "Changing targets, nudges and credits is for admins.",
        handler=handle_policy,
    ),
)
