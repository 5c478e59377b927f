"""A digest built and queued, with its chart, in the outbox: the scheduled job's body.

The scheduler (bot/scheduler/digests.py) makes one cron job per subscription and takes the slot's
run-once lease before it calls `send_digest`, so a digest is posted once per subscription
and slot even with several replicas. The message and the chart are drawn by the
`DigestViews` the caller passes (bot/views/digest.py): commands never import bot/.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from commands.charts import DailyCompliance
from commands.deps import Deps
from commands.digest_insight import breach_causes
from commands.errors import NotFound
from commands.forecasts import channel_forecasts
from commands.reporting import DEFAULT_GOAL_PERCENT, DigestData, build_chart_days, build_digest
from commands.slack_notifier import Blocks
from commands.ticket_facts import load_facts
from sla.periods import CHART_DAYS, digest_weeks
from sla.targets import CreditTier
from storage import repositories as repo
from storage.repositories import outbox as outbox_repo

log = logging.getLogger(__name__)


class DigestViews(Protocol):
    """How a digest is drawn: its message (fallback text and blocks) and its chart (PNG)."""

    def message(self, data: DigestData) -> tuple[str, Blocks]:
        """The digest message."""
        ...

    def chart(self, data: DigestData, days: Sequence[DailyCompliance]) -> bytes:
        """The daily compliance chart of the weeks before the digest."""
        ...


@dataclass(frozen=True)
class DigestContent:
    """A digest's numbers and, unless the week was empty, its chart's days."""

    data: DigestData
    chart_days: tuple[DailyCompliance, ...] | None


@dataclass(frozen=True)
class DigestSent:
    """A digest queued in the outbox: the key of its message and, unless the week was
    empty, of its chart (the sender delivers both, in that order)."""

    message_key: str
    chart_key: str | None
    data: DigestData


def send_digest(deps: Deps, subscription_id: int, slot_start: datetime,
                views: DigestViews) -> DigestSent | None:
    """Queue the digest of one subscription for the slot starting at `slot_start`.

    The caller owns "once per slot" (the scheduler's job lease); the outbox keys make a
    second call for the same slot queue nothing new. Returns None when the subscription was
    removed in the meantime.
    """
    with deps.unit_of_work() as session:
        try:
            row = repo.get_digest_subscription(session=session, subscription_id=subscription_id)
        except NotFound:
            row = None
        if row is None or not row.active:
            log.info("digest subscription %s is gone; nothing sent", subscription_id)
            return None
        target_channel, target_user = row.target_channel_id, row.target_user_id
        scope_channel, workspace_id, tz = row.scope_channel_id, row.workspace_id, row.tz
    return post_digest(
        deps, views, workspace_id=workspace_id, scope_channel_id=scope_channel, tz=tz,
        slot_start=slot_start, channel_id=target_channel, user_id=target_user,
        key=f"digest:{subscription_id}:{slot_start.isoformat()}",
    )


def post_digest(
    deps: Deps, views: DigestViews, *, workspace_id: int, scope_channel_id: str | None, tz: str,
    slot_start: datetime, channel_id: str | None, user_id: str | None, key: str,
) -> DigestSent:
    """Build the digest and queue it, with its chart, for a channel or a person's DM."""
    now = deps.clock.now()
    content = digest_content(
        deps, workspace_id=workspace_id, scope_channel_id=scope_channel_id, tz=tz,
        slot_start=slot_start, now=now,
    )
    data = content.data
    text, blocks = views.message(data)
    chart = None if content.chart_days is None else views.chart(data, content.chart_days)
    kind = outbox_repo.POST if channel_id else outbox_repo.DM
    chart_key = f"{key}:chart" if chart is not None else None
    with deps.unit_of_work() as session:
        outbox_repo.queue_write(
            session=session, key=key, kind=kind, channel_id=channel_id, user_id=user_id,
            text=text, blocks=blocks, at=now,
        )
        if chart_key is not None:
            outbox_repo.queue_write(
                session=session, key=chart_key, kind=outbox_repo.FILE, channel_id=channel_id,
                user_id=user_id, at=now,
                text=f"Daily SLA compliance, last 8 weeks (goal {data.goal_percent:g}%)",
                file_name=f"sla-compliance-{data.period.end.date().isoformat()}.png",
                file_content=chart,
            )
    deps.wake_outbox()
    return DigestSent(key, chart_key, data)


def digest_content(
    deps: Deps, *, workspace_id: int, scope_channel_id: str | None, tz: str,
    slot_start: datetime, now: datetime,
) -> DigestContent:
    """The digest's data (with each breach's cause and the forecast from `now`) and its
    chart's days (None for an empty week), read in one unit of work."""
    week, _ = digest_weeks(slot_start, tz=tz)
    chart_start = week.end - timedelta(days=CHART_DAYS + 1)  # a day spare for DST shifts
    scope = f"<#{scope_channel_id}>" if scope_channel_id else "all channels"
    with deps.unit_of_work() as session:
        facts = load_facts(
            session=session, workspace_id=workspace_id, channel_id=scope_channel_id,
            start=chart_start, end=max(now, week.end), now=now,
        )
        policy = repo.get_policy(
            session=session, workspace_id=workspace_id, channel_id=scope_channel_id
        )
        data = build_digest(
            facts, slot_start=slot_start, now=now, scope=scope, tz=tz,
            goal_percent=goal_percent(policy.credit_tiers),
        )
        causes = breach_causes(
            session, workspace_id=workspace_id, channel_id=scope_channel_id, period=week,
            breaches={(b.ticket_key, b.metric) for b in data.breaches}, now=now,
        )
        ahead = channel_forecasts(
            session, workspace_id=workspace_id, now=now,
            channel_ids=None if scope_channel_id is None else (scope_channel_id,),
        )
    data = replace(
        data,
        breaches=tuple(replace(b, cause=causes.get((b.ticket_key, b.metric)))
                       for b in data.breaches),
        forecasts=tuple(f for f in ahead if f.forecast.queue),
    )
    if data.empty:
        return DigestContent(data, None)
    return DigestContent(data, tuple(build_chart_days(facts, end=week.end, now=now, tz=tz)))


def goal_percent(tiers: tuple[CreditTier, ...]) -> float:
    """The compliance goal drawn on the chart: the first credit tier's threshold, else 95%."""
    return max((tier.below_percent for tier in tiers), default=DEFAULT_GOAL_PERCENT)
