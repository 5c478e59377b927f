"""What an SLA policy is made of: priorities, metrics and their business-time targets, nudge
rules and who hears them, credit tiers, and the limits each of them keeps.

Each part validates itself when built and raises PolicyError naming the bad part.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sla.durations import format_business_duration

__all__ = [
    "MAX_TARGET",
    "MIN_REESCALATE",
    "Audience",
    "CreditTier",
    "Metric",
    "NudgeRule",
    "PolicyError",
    "Priority",
    "Targets",
    "check_positive",
    "check_reescalate",
    "check_target_order",
    "default_audiences",
]


class PolicyError(ValueError):
    """A policy, or a part of its spec, is invalid; the message names the bad part."""


class Priority(StrEnum):
    """Ticket priority, P1 the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @classmethod
    def parse(cls, text: str | Priority) -> Priority:
        """Read a priority written as ``P1``, ``p1`` or ``1``."""
        cleaned = str(text).strip().upper()
        if cleaned.isdigit():
            cleaned = f"P{cleaned}"
        try:
            return cls(cleaned)
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise PolicyError(f"unknown priority {text!r}: use one of {choices}") from None


class Metric(StrEnum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class Audience(StrEnum):
    """Who hears a nudge."""

    THREAD = "thread"
    ASSIGNEE = "assignee"
    ESCALATION_CHANNEL = "escalation_channel"
    MANAGERS = "managers"


# The longest target or re-escalation interval: 365 "d" of business time (8760 business
# hours, three years of 8-hour days). Far beyond any SLA, it keeps clocks cheap and inside the
# calendar's years; a typo like resolution=2000000d would otherwise break every clock.
MAX_TARGET = timedelta(days=365)
# Re-escalations repeat a breach to every audience; closer than this they are noise (a 1s
# interval posts three times a second per breached metric). Checked when a policy changes,
# so a stored policy from before the floor still loads.
MIN_REESCALATE = timedelta(minutes=15)


def check_reescalate(every: timedelta | None) -> None:
    """Raise PolicyError for a re-escalation interval below MIN_REESCALATE (None is off)."""
    if every is not None and every < MIN_REESCALATE:
        raise PolicyError(
            f"re-escalate must be at least {format_business_duration(MIN_REESCALATE)} "
            f"(every reminder pings everyone again), got {format_business_duration(every)}"
        )


def check_target_order(priority: str, targets: Targets) -> None:
    """Raise PolicyError when resolution is due before the first response can be."""
    if targets.resolution < targets.first_response:
        raise PolicyError(
            f"{priority}: the resolution target ({format_business_duration(targets.resolution)}) "
            "cannot be shorter than the first response target "
            f"({format_business_duration(targets.first_response)})"
        )


def check_positive(value: object, where: str) -> timedelta:
    """``value`` if it is a positive duration no longer than MAX_TARGET, else PolicyError."""
    if not isinstance(value, timedelta):
        raise PolicyError(f"{where}: expected a duration, got {value!r}")
    if value <= timedelta(0):
        raise PolicyError(f"{where}: must be positive, got {value}")
    if value > MAX_TARGET:
        raise PolicyError(
            f"{where}: at most {format_business_duration(MAX_TARGET)} of business time, "
            f"got {format_business_duration(value)}"
        )
    return value


@dataclass(frozen=True)
class Targets:
    """Business-time targets of one priority; ``next_response`` None means not measured."""

    first_response: timedelta
    resolution: timedelta
    next_response: timedelta | None = None

    def __post_init__(self) -> None:
        check_positive(self.first_response, "first_response")
        check_positive(self.resolution, "resolution")
        if self.next_response is not None:
            check_positive(self.next_response, "next_response")

    def get(self, metric: Metric) -> timedelta | None:
        """The target for ``metric``, or None when the metric is not measured."""
        metric = Metric(metric)
        if metric is Metric.FIRST_RESPONSE:
            return self.first_response
        if metric is Metric.RESOLUTION:
            return self.resolution
        return self.next_response

    def changed(self, changes: Mapping[Metric, timedelta | None]) -> Targets:
        """A copy with some targets changed; only next response can be switched off (None).

        The PolicyError of a bad value starts with the metric's name.
        """
        first = changes.get(Metric.FIRST_RESPONSE, self.first_response)
        resolution = changes.get(Metric.RESOLUTION, self.resolution)
        if first is None or resolution is None:
            off = Metric.FIRST_RESPONSE if first is None else Metric.RESOLUTION
            raise PolicyError(f"{off}: cannot be switched off")
        return Targets(first, resolution, changes.get(Metric.NEXT_RESPONSE, self.next_response))


@dataclass(frozen=True)
class NudgeRule:
    """A nudge at ``fraction`` of the target (1.0 is the breach) for ``audiences``."""

    fraction: float
    audiences: frozenset[Audience]

    def __post_init__(self) -> None:
        fraction = self.fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise PolicyError(f"nudge fraction must be a number, got {fraction!r}")
        if not (math.isfinite(fraction) and 0 < fraction <= 1):
            raise PolicyError(f"nudge fraction must be in (0, 1], got {fraction!r}")
        try:
            audiences = frozenset(Audience(a) for a in self.audiences)
        except ValueError:
            choices = ", ".join(a.value for a in Audience)
            raise PolicyError(
                f"nudge at {fraction:g}: unknown audience in {sorted(map(str, self.audiences))}; "
                f"use {choices}"
            ) from None
        if not audiences:
            raise PolicyError(f"nudge at {fraction:g}: needs at least one audience")
        object.__setattr__(self, "fraction", float(fraction))
        object.__setattr__(self, "audiences", audiences)


@dataclass(frozen=True)
class CreditTier:
    """A service credit of ``credit_percent`` owed when compliance is below ``below_percent``."""

    below_percent: float
    credit_percent: float

    def __post_init__(self) -> None:
        for name in ("below_percent", "credit_percent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"credit tier: {name} must be a number, got {value!r}")
        if not 0 < self.below_percent <= 100:
            raise PolicyError(
                f"credit tier: below_percent must be in (0, 100], got {self.below_percent!r}"
            )
        if not 0 < self.credit_percent <= 100:
            raise PolicyError(
                f"credit tier: credit_percent must be in (0, 100], got {self.credit_percent!r}"
            )


def default_audiences(fraction: float) -> frozenset[Audience]:
    """Who hears a nudge at ``fraction`` when nobody said otherwise."""
    if fraction >= 1:
        return frozenset({Audience.THREAD, Audience.ESCALATION_CHANNEL, Audience.MANAGERS})
    if fraction >= 0.8:
        return frozenset({Audience.THREAD, Audience.ASSIGNEE})
    return frozenset({Audience.THREAD})


