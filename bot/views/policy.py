"""`/sla policy`: a channel's hours, targets, nudges, credits, escalation and tracking."""

from __future__ import annotations

from datetime import timedelta

from bot.views.blocks import REPLY_SECTION_TEXT, Reply, section
from commands.policy_verbs import ChannelSettings, CreditsChanged, NudgesChanged, PolicyShown
from commands.text import channel_mention, user_mention
from sla.durations import format_business_duration
from sla.policy import Policy
from sla.targets import Audience

_AUDIENCE_LABELS = {
    Audience.THREAD: "thread",
    Audience.ASSIGNEE: "assignee",
    Audience.ESCALATION_CHANNEL: "escalation channel",
    Audience.MANAGERS: "managers",
}


def _target(value: timedelta | None) -> str:
    return format_business_duration(value) if value is not None else "—"


def targets_table(policy: Policy) -> str:
    """A monospaced table of targets per priority."""
    rows = [f"{'':4}{'First response':<16}{'Resolution':<12}Next response"]
    for priority, targets in policy.targets.items():
        rows.append(
            f"{priority.value:<4}{_target(targets.first_response):<16}"
            f"{_target(targets.resolution):<12}{_target(targets.next_response)}"
        )
    return "```" + "\n".join(rows) + "```"


def nudges_text(policy: Policy) -> str:
    """`50% → thread · 80% → thread, assignee · breach → ...`, plus re-escalation."""
    parts = []
    for rule in policy.nudges:
        label = "breach" if rule.fraction >= 1 else f"{round(rule.fraction * 100):g}%"
        audiences = ", ".join(
            _AUDIENCE_LABELS[a] for a in sorted(rule.audiences, key=list(Audience).index)
        )
        parts.append(f"{label} → {audiences}")
    every = policy.reescalate_every
    again = f"re-escalate every {format_business_duration(every)}" if every else "no re-escalation"
    return " · ".join(parts) + f" · {again}"


def credits_text(policy: Policy) -> str:
    """The service credit tiers in one line, or that there are none."""
    if not policy.credit_tiers:
        return "none (set them with `/sla policy credits 95%=5% 90%=10%`)"
    return ", ".join(f"below {t.below_percent:g}% → {t.credit_percent:g}% credit"
                     for t in policy.credit_tiers)


def escalation_text(settings: ChannelSettings) -> str:
    """Where breaches go, or a hint that nowhere but the thread."""
    targets = [channel_mention(c) for c in settings.escalation_channel_ids]
    targets += [user_mention(u) for u in settings.manager_user_ids]
    if not targets:
        return "only the thread (set one with `/sla escalate #channel @manager`)"
    return ", ".join(targets)


def render_policy(policy: Policy, settings: ChannelSettings) -> Reply:
    """This channel's policy: hours, targets per priority, nudges, escalation, tracking."""
    source = "this channel's own policy" if settings.own_policy else "the workspace default"
    if settings.tracking:
        default = settings.default_priority or policy.default_priority
        tracking = f"on: new messages become tickets, default priority {default}"
    else:
        tracking = "off (turn it on with `/sla track`)"
    lines = [
        f"*Business hours*: {policy.calendar.describe()}",
        "*Targets* (business time)",
        targets_table(policy),
        f"*Nudges*: {nudges_text(policy)}",
        f"*Service credits* (resolution compliance): {credits_text(policy)}",
        f"*Escalation*: {escalation_text(settings)}",
        f"*Tracking*: {tracking}",
    ]
    if settings.responder_user_ids:
        people = ", ".join(user_mention(u) for u in settings.responder_user_ids)
        lines.append(f"*Responders*: {people} (their replies always count as an answer)")
    heading = f"*SLA policy for {channel_mention(settings.channel_id)}* ({source})"
    blocks = [section(heading, REPLY_SECTION_TEXT), section("\n".join(lines), REPLY_SECTION_TEXT)]
    return Reply(heading + "\n" + "\n".join(lines), blocks)


def policy_reply(result: PolicyShown) -> Reply:
    """`/sla policy`."""
    return render_policy(result.policy, result.settings)


def nudges_reply(result: NudgesChanged) -> Reply:
    """`/sla policy nudges`."""
    return Reply(f":white_check_mark: Nudges for <#{result.channel_id}>: "
                 f"{nudges_text(result.policy)}.")


def credits_reply(result: CreditsChanged) -> Reply:
    """`/sla policy credits`."""
    return Reply(f":white_check_mark: Service credits for <#{result.channel_id}>: "
                 f"{credits_text(result.policy)}. `/sla report` shows what is owed.")
