"""`/sla simulate ...`: what this channel's last period would have looked like under another
policy, next to what it was.

    /sla simulate P1 first-response=30m resolution=4h P2 resolution=1d
                  hours Mon-Fri 08:00-18:00 tz=Europe/Berlin holidays=DE
                  nudges 50% re-escalate=1h  90d

Targets, hours and nudges use the grammar of `/sla policy set`, `/sla hours` and
`/sla policy nudges`; what is not given stays as the channel's policy has it. The tickets of
the period are read in one unit of work and replayed by `sla.simulation`; nothing is saved,
so anyone may simulate their own channel.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from commands.errors import UsageError
from commands.hours import HoursArgs, build_calendar, parse_hours
from commands.parser import parse_period_arg
from commands.policy_verbs import (
    NudgesArgs,
    PolicySetArgs,
    parse_policy_nudges,
    parse_policy_set,
    with_nudges,
)
from commands.request import Result, Verb, VerbRequest
from commands.text import clip
from sla.business_time import CalendarError
from sla.policy import Policy
from sla.simulation import Simulation, simulate
from sla.targets import PolicyError
from storage import repositories as repo
from storage.models import stored_id
from storage.repositories.histories import load_period_tickets

USAGE = (
    "/sla simulate [P1 first-response=30m resolution=4h ...] [hours Mon-Fri 09:00-17:00 "
    "tz=Europe/Berlin] [holidays=DE] [nudges 50% 80% re-escalate=2h] [7d|30d|90d|YYYY-MM]"
)
_PERIOD = re.compile(r"^(\d+d|\d{4}-\d{2})$", re.IGNORECASE)
_PRIORITY = re.compile(r"^p[1-4]$", re.IGNORECASE)
_HOURS_SETTINGS = ("tz=", "timezone=", "holidays=")


@dataclass(frozen=True)
class SimulateArgs:
    """What to change (targets per priority, hours, nudges) and over which period."""

    targets: tuple[PolicySetArgs, ...] = ()
    hours: HoursArgs | None = None
    nudges: NudgesArgs | None = None
    period: str | None = None


@dataclass(frozen=True)
class SimulationResult(Result):
    """A channel's period replayed under its policy (`current`) and the `proposed` one."""

    simulation: Simulation
    channel_id: str
    period_label: str
    current: Policy
    proposed: Policy


def parse_simulate(args: tuple[str, ...]) -> SimulateArgs:
    """Split the words into priority groups, an hours group, a nudges group and a period."""
    groups: list[tuple[str, list[str]]] = []
    hours: list[str] = []
    nudges: list[str] | None = None
    period = None
    current: list[str] | None = None
    for token in args:
        low = token.lower()
        if _PERIOD.match(low):
            if period is not None:
                raise UsageError(f"two periods: `{clip(period)}` and `{clip(token)}`", USAGE)
            period, current = low, None
        elif _PRIORITY.match(token):
            groups.append((token, [token]))
            current = groups[-1][1]
        elif low == "hours":
            current = hours
        elif low == "nudges":
            nudges = nudges if nudges is not None else []
            current = nudges
        elif low.startswith(_HOURS_SETTINGS):
            hours.append(token)
        elif low.startswith(("re-escalate=", "reescalate=")):
            nudges = nudges if nudges is not None else []
            nudges.append(token)
        elif current is not None:
            current.append(token)
        else:
            raise UsageError(
                f"I did not expect `{clip(token)}` here: start with a priority (P1), `hours`, "
                "`nudges` or a period", USAGE)
    if "hours" in (t.lower() for t in args) and not hours:
        raise UsageError("give the hours to simulate, like hours Mon-Fri 08:00-18:00", USAGE)
    if nudges == []:
        raise UsageError("give the nudge thresholds to simulate, like nudges 50% 80%", USAGE)
    seen = [priority.upper() for priority, _ in groups]
    if len(set(seen)) != len(seen):
        raise UsageError("give each priority once", USAGE)
    return SimulateArgs(
        targets=tuple(parse_policy_set(tuple(tokens), USAGE) for _, tokens in groups),
        hours=parse_hours(tuple(hours), USAGE) if hours else None,
        nudges=parse_policy_nudges(tuple(nudges), USAGE) if nudges is not None else None,
        period=period,
    )


def proposed_policy(current: Policy, args: SimulateArgs) -> Policy:
    """The channel's policy with the simulated changes (bad combinations are usage errors)."""
    policy = current
    try:
        for change in args.targets:
            policy = policy.with_targets(change.priority, change.targets)
        if args.hours is not None:
            policy = policy.with_calendar(build_calendar(policy.calendar, args.hours))
        if args.nudges is not None:
            policy = with_nudges(policy, args.nudges)
    except (PolicyError, CalendarError) as exc:
        raise UsageError(str(exc), USAGE) from None
    return policy


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Hold the cycle collector while a period is replayed.

    The replay makes a few objects per event and drops them all at the end; the collector
    scanning them again and again cost a third of the time on 10,000 tickets
    (bench/bench_simulate.py). Reference counting still frees everything; the collector
    resumes right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def handle_simulate(request: VerbRequest) -> SimulationResult:
    """Replay this channel's tickets of the period under the proposed policy (saves nothing)."""
    args = parse_simulate(request.args)
    with without_cycle_collection():
        return _simulate(request, args)


def _simulate(request: VerbRequest, args: SimulateArgs) -> SimulationResult:
    now: datetime = request.deps.clock.now()
    with request.deps.unit_of_work() as session:
        workspace = repo.get_or_create_workspace(session=session, team_id=request.team_id)
        workspace_id = stored_id(workspace)
        period = parse_period_arg(args.period, tz=workspace.tz, now=now, usage=USAGE)
        current = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id
        )
        tickets = load_period_tickets(
            session=session, workspace_id=workspace_id, channel_id=request.channel_id,
            start=period.start, end=period.end,
        )
    proposed = proposed_policy(current, args)
    result = simulate([t.history() for t in tickets], current, proposed, period.start,
                      period.end, now)
    return SimulationResult(result, request.channel_id, period.label, current, proposed)


VERBS = (
    Verb(
        name="simulate",
        usage=(USAGE,),
        summary="what if: this channel's past tickets replayed under other targets or hours",
        details="Replays every ticket of the period (default 30d) from its history under the "
        "proposed targets, hours, holidays and nudges (what you leave out stays as it is) and "
        "shows met %, breaches, nudges, escalations and service credit next to the actual "
        "ones, plus the tightest target per priority that would have kept the goal (the "
        "first credit tier, else 95%). Nothing is changed; anyone may simulate their channel.",
        handler=handle_simulate,
    ),
)
