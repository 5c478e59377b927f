"""SLA policies: a calendar, targets for every priority, nudges, re-escalation and credits.

A policy is a frozen value. Builders (``with_target``, ``with_nudges``, ``with_calendar``)
return a new policy; ``to_spec``/``from_spec`` convert to and from a JSON-able dict whose
durations are whole or fractional seconds (``from_spec`` also accepts text such as ``"4h"``).
Its parts (priorities, metrics, targets, nudge rules, credit tiers) are in ``sla.targets``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum, auto
from types import MappingProxyType
from typing import Any

from sla.calendar import BusinessCalendar
from sla.durations import DurationError, parse_duration
from sla.targets import (
    Audience,
    CreditTier,
    Metric,
    NudgeRule,
    PolicyError,
    Priority,
    Targets,
    check_positive,
    check_reescalate,
    check_target_order,
    default_audiences,
)

__all__ = ["Policy"]

_DEFAULT_HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}

# Targets are business time; with an 8-hour business day "3 business days" is 24 hours.
_DEFAULT_TARGETS = {
    Priority.P1: Targets(timedelta(minutes=15), timedelta(hours=4)),
    Priority.P2: Targets(timedelta(hours=1), timedelta(hours=8)),
    Priority.P3: Targets(timedelta(hours=4), timedelta(hours=24)),
    Priority.P4: Targets(timedelta(hours=8), timedelta(hours=40)),
}

_DEFAULT_NUDGES = tuple(NudgeRule(f, default_audiences(f)) for f in (0.5, 0.8, 1.0))

class _Keep(Enum):
    """The default that means "leave this setting as it is" (None means "off")."""

    KEEP = auto()


@dataclass(frozen=True)
class Policy:
    """An SLA policy: calendar, targets for every priority, nudges and re-escalation."""

    calendar: BusinessCalendar
    targets: Mapping[Priority, Targets]
    nudges: tuple[NudgeRule, ...] = _DEFAULT_NUDGES
    reescalate_every: timedelta | None = None
    default_priority: Priority = Priority.P3
    credit_tiers: tuple[CreditTier, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, BusinessCalendar):
            raise PolicyError(f"calendar: expected a BusinessCalendar, got {self.calendar!r}")
        targets: dict[Priority, Targets] = {}
        for key, value in self.targets.items():
            priority = Priority.parse(key)
            if not isinstance(value, Targets):
                raise PolicyError(f"targets.{priority}: expected Targets, got {value!r}")
            targets[priority] = value
        missing = [p.value for p in Priority if p not in targets]
        if missing:
            raise PolicyError(f"targets: missing priorities {', '.join(missing)}")
        # Every priority is present, so any ticket can be measured; keep P1..P4 order.
        object.__setattr__(self, "targets", MappingProxyType({p: targets[p] for p in Priority}))
        nudges = tuple(sorted(self.nudges, key=lambda rule: rule.fraction))
        fractions = [rule.fraction for rule in nudges]
        if len(set(fractions)) != len(fractions):
            raise PolicyError(f"nudges: each fraction may appear once, got {fractions}")
        object.__setattr__(self, "nudges", nudges)
        if self.reescalate_every is not None:
            check_positive(self.reescalate_every, "reescalate_every")
        object.__setattr__(self, "default_priority", Priority.parse(self.default_priority))
        tiers = tuple(sorted(self.credit_tiers, key=lambda tier: -tier.below_percent))
        object.__setattr__(self, "credit_tiers", tiers)

    def __hash__(self) -> int:
        # The targets mapping is read-only but not hashable itself; hash its items.
        return hash(
            (
                self.calendar,
                tuple(self.targets.items()),
                self.nudges,
                self.reescalate_every,
                self.default_priority,
                self.credit_tiers,
            )
        )

    @classmethod
    def default(cls, calendar: BusinessCalendar | None = None) -> Policy:
        """The stock policy (P1 15m/4h ... P4 8h/40h business time; nudges at 50%, 80%, breach)."""
        if calendar is None:
            calendar = BusinessCalendar("UTC", _DEFAULT_HOURS)
        return cls(calendar=calendar, targets=dict(_DEFAULT_TARGETS))

    def target(self, priority: Priority | str, metric: Metric | str) -> timedelta | None:
        """The business-time target of ``metric`` at ``priority`` (None if not measured)."""
        return self.targets[Priority.parse(priority)].get(Metric(metric))

    def nudge_rule(self, fraction: float) -> NudgeRule | None:
        """The nudge rule at exactly ``fraction``, if any."""
        return next((r for r in self.nudges if math.isclose(r.fraction, fraction)), None)

    @property
    def breach_audiences(self) -> frozenset[Audience]:
        """Who hears a breach and every re-escalation."""
        rule = self.nudge_rule(1.0)
        return rule.audiences if rule else default_audiences(1.0)

    # -- builders -------------------------------------------------------------------------

    def with_target(
        self, priority: Priority | str, metric: Metric | str, duration: timedelta | None
    ) -> Policy:
        """A copy with one target changed; None switches next response off."""
        return self.with_targets(priority, {Metric(metric): duration})

    def with_targets(
        self,
        priority: Priority | str,
        changes: Mapping[Metric, timedelta | None] | Mapping[str, timedelta | None],
    ) -> Policy:
        """A copy with several targets of one priority changed at once (None switches next
        response off); resolution may not end up shorter than first response."""
        priority = Priority.parse(priority)
        metrics = {Metric(metric): duration for metric, duration in changes.items()}
        targets = _changed_targets(self.targets, priority, metrics)
        check_target_order(priority, targets[priority])
        return replace(self, targets=targets)

    def with_nudges(
        self, fractions: Iterable[float], reescalate_every: timedelta | _Keep | None = _Keep.KEEP
    ) -> Policy:
        """A copy nudging at ``fractions`` of the target; the breach (1.0) is always kept.

        Audiences of fractions already in the policy are kept, new ones get the defaults.
        ``reescalate_every`` None switches re-escalation off; omitted, it is unchanged.
        """
        wanted = {float(f) for f in fractions} | {1.0}
        rules = [self.nudge_rule(f) or NudgeRule(f, default_audiences(f)) for f in sorted(wanted)]
        if reescalate_every is _Keep.KEEP:
            reescalate_every = self.reescalate_every
        else:
            check_reescalate(reescalate_every)
        return replace(self, nudges=tuple(rules), reescalate_every=reescalate_every)

    def with_calendar(self, calendar: BusinessCalendar) -> Policy:
        """A copy measuring business time on ``calendar``."""
        return replace(self, calendar=calendar)

    # -- spec -----------------------------------------------------------------------------

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able dict; durations are seconds. ``from_spec`` reads it back."""
        return {
            "calendar": self.calendar.to_spec(),
            "targets": {
                p.value: {m.value: _seconds(t.get(m)) for m in Metric}
                for p, t in self.targets.items()
            },
            "nudges": [
                {"fraction": r.fraction, "audiences": sorted(a.value for a in r.audiences)}
                for r in self.nudges
            ],
            "reescalate_every": _seconds(self.reescalate_every),
            "default_priority": self.default_priority.value,
            "credit_tiers": [
                {"below_percent": t.below_percent, "credit_percent": t.credit_percent}
                for t in self.credit_tiers
            ],
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Policy:
        """Build a policy from ``to_spec`` output or a hand-written config.

        Missing parts fall back to ``Policy.default()``: a missing calendar, priority or
        metric keeps the default; unknown keys are errors so typos do not pass silently.
        """
        if not isinstance(spec, Mapping):
            raise PolicyError(f"policy spec must be a mapping, got {type(spec).__name__}")
        _reject_unknown(spec, _SPEC_KEYS, "policy")
        if "calendar" in spec:
            try:
                calendar = BusinessCalendar.from_spec(spec["calendar"])
            except ValueError as exc:
                raise PolicyError(f"calendar: {exc}") from None
        else:
            calendar = BusinessCalendar("UTC", _DEFAULT_HOURS)
        policy = cls.default(calendar)
        targets = dict(policy.targets)
        raw_targets = spec.get("targets", {})
        if not isinstance(raw_targets, Mapping):
            raise PolicyError("targets: must be a mapping of priority to targets")
        for key, raw in raw_targets.items():
            priority = Priority.parse(key)
            where = f"targets.{priority}"
            if not isinstance(raw, Mapping):
                raise PolicyError(f"{where}: must be a mapping of metric to duration")
            _reject_unknown(raw, {m.value for m in Metric}, where)
            changes = {
                Metric(name): _duration(
                    value, f"{where}.{name}", allow_none=name == Metric.NEXT_RESPONSE
                )
                for name, value in raw.items()
            }
            targets = _changed_targets(targets, priority, changes)
        nudges = policy.nudges
        if "nudges" in spec:
            nudges = tuple(_nudge_from_spec(raw, i) for i, raw in enumerate(spec["nudges"]))
        tiers = tuple(_tier_from_spec(raw, i) for i, raw in enumerate(spec.get("credit_tiers", ())))
        return cls(
            calendar=calendar,
            targets=targets,
            nudges=nudges,
            reescalate_every=_duration(
                spec.get("reescalate_every"), "reescalate_every", allow_none=True
            ),
            default_priority=Priority.parse(spec.get("default_priority", Priority.P3)),
            credit_tiers=tiers,
        )


_SPEC_KEYS = {
    "calendar",
    "targets",
    "nudges",
    "reescalate_every",
    "default_priority",
    "credit_tiers",
}


def _changed_targets(
    targets: Mapping[Priority, Targets],
    priority: Priority,
    changes: Mapping[Metric, timedelta | None],
) -> dict[Priority, Targets]:
    """``targets`` with some of ``priority``'s changed; errors name the priority and metric."""
    found = dict(targets)
    try:
        found[priority] = found[priority].changed(changes)
    except PolicyError as exc:
        raise PolicyError(f"targets.{priority}.{exc}") from None
    return found


def _seconds(value: timedelta | None) -> int | float | None:
    if value is None:
        return None
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _duration(value: Any, where: str, *, allow_none: bool = False) -> timedelta | None:
    if value is None:
        if allow_none:
            return None
        raise PolicyError(f"{where}: a duration is required")
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected seconds or a duration like '4h', got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise PolicyError(f"{where}: expected a finite number of seconds, got {value!r}")
        duration = timedelta(seconds=value)
    elif isinstance(value, str):
        try:
            duration = parse_duration(value)
        except DurationError as exc:
            raise PolicyError(f"{where}: {exc}") from None
    elif isinstance(value, timedelta):
        duration = value
    else:
        raise PolicyError(f"{where}: expected seconds or a duration like '4h', got {value!r}")
    return check_positive(duration, where)


def _reject_unknown(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise PolicyError(
            f"{where}: unknown keys {', '.join(map(str, unknown))} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _nudge_from_spec(raw: Any, index: int) -> NudgeRule:
    where = f"nudges[{index}]"
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = {"fraction": raw}
    if not isinstance(raw, Mapping) or "fraction" not in raw:
        raise PolicyError(f"{where}: expected {{'fraction': 0.5, 'audiences': [...]}}")
    _reject_unknown(raw, {"fraction", "audiences"}, where)
    fraction = raw["fraction"]
    audiences = raw.get("audiences")
    try:
        if audiences is None:
            return NudgeRule(fraction, default_audiences(float(fraction)))
        if isinstance(audiences, str):
            audiences = [audiences]
        return NudgeRule(fraction, frozenset(audiences))
    except (PolicyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _tier_from_spec(raw: Any, index: int) -> CreditTier:
    where = f"credit_tiers[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected {{'below_percent': .., 'credit_percent': ..}}")
    _reject_unknown(raw, {"below_percent", "credit_percent"}, where)
    try:
        return CreditTier(float(raw["below_percent"]), float(raw["credit_percent"]))
    except KeyError as exc:
        raise PolicyError(f"{where}: missing {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: {exc}") from None
