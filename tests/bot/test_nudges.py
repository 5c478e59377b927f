"""Nudge messages: who hears them and what they say."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.nudge_messages import (
    Delivery,
    DeliveryKind,
    Escalation,
    NudgeFacts,
    NudgeTicket,
    deliver_nudge,
    format_instant,
    plan_deliveries,
    render_nudge,
    thread_permalink,
)
from sla.targets import Audience, Metric

NOW = datetime(2026, 11, 23, 9, 18, tzinfo=UTC)  # Monday, 10:18 in Berlin
TICKET = NudgeTicket(
    key="SLA-42",
    channel_id="C1",
    thread_ts="1763889480.000100",
    requester="UREQ",
    assignee="UASSIGN",
    permalink="https://acme.slack.com/archives/C1/p1763889480000100",
)
ESCALATION = Escalation(channel_ids=("CESC",), manager_ids=("UBOSS1", "UBOSS2"))


def facts(threshold=0.8, seq=0, remaining=timedelta(minutes=12), **kw):
    values = dict(
        metric=Metric.FIRST_RESPONSE,
        threshold=threshold,
        seq=seq,
        target=timedelta(hours=1),
        remaining=remaining,
        due_at=NOW + remaining,
        planned_at=NOW,
        now=NOW,
        tz="Europe/Berlin",
    )
    values.update(kw)
    return NudgeFacts(**values)


def thread():
    return Delivery(DeliveryKind.THREAD, "C1", Audience.THREAD)


def test_default_audiences_reach_thread_assignee_channel_and_managers():
    deliveries = plan_deliveries(
        {Audience.THREAD, Audience.ASSIGNEE, Audience.ESCALATION_CHANNEL, Audience.MANAGERS},
        TICKET,
        ESCALATION,
    )
    assert [d.key for d in deliveries] == [
        "thread:C1",
        "dm:UASSIGN",
        "channel:CESC",
        "dm:UBOSS1",
        "dm:UBOSS2",
    ]


def test_half_way_nudge_only_goes_to_the_thread():
    assert [d.key for d in plan_deliveries({Audience.THREAD}, TICKET, ESCALATION)] == ["thread:C1"]


def test_unassigned_ticket_and_no_escalation_targets_reach_only_the_thread():
    unassigned = NudgeTicket(key="SLA-1", channel_id="C1", thread_ts="1.2")
    audiences = {Audience.THREAD, Audience.ASSIGNEE, Audience.ESCALATION_CHANNEL, Audience.MANAGERS}
    assert [d.key for d in plan_deliveries(audiences, unassigned, Escalation())] == ["thread:C1"]


def test_a_manager_who_is_also_the_assignee_gets_one_dm():
    ticket = NudgeTicket(key="SLA-1", channel_id="C1", thread_ts="1.2", assignee="UBOSS1")
    keys = [
        d.key for d in plan_deliveries({Audience.ASSIGNEE, Audience.MANAGERS}, ticket, ESCALATION)
    ]
    assert keys == ["dm:UBOSS1", "dm:UBOSS2"]


def test_threshold_nudge_names_metric_time_left_local_due_time_and_mentions_assignee():
    message = render_nudge(facts(), TICKET, thread())
    assert message.text == (
        ":hourglass_flowing_sand: *SLA-42* First response due in 12m of business time "
        "(10:30 Berlin): 80% of the 1h target is used. <@UASSIGN>"
    )
    assert message.blocks[0]["text"]["text"] == message.text


def test_breach_nudge_says_overdue_and_when_it_was_due():
    message = render_nudge(
        facts(threshold=1.0, remaining=timedelta(minutes=-5), due_at=NOW - timedelta(minutes=5)),
        TICKET,
        thread(),
    )
    assert "First response target of 1h breached at 10:13 Berlin" in message.text
    assert "overdue by 5m of business time" in message.text
    assert message.text.startswith(":rotating_light:")


def test_escalation_post_links_to_the_thread_and_names_the_channel():
    delivery = Delivery(DeliveryKind.CHANNEL, "CESC", Audience.ESCALATION_CHANNEL)
    message = render_nudge(facts(threshold=1.0, remaining=timedelta(0)), TICKET, delivery)
    assert "<@UASSIGN>" not in message.text  # the mention belongs in the thread only
    assert "in <#C1>: <https://acme.slack.com/archives/C1/p1763889480000100|Open the thread>" in (
        message.text
    )
    assert message.blocks[1]["type"] == "context"


def test_re_escalation_counts_reminders():
    message = render_nudge(
        facts(threshold=1.0, seq=2, remaining=timedelta(hours=-4, minutes=-5)), TICKET, thread()
    )
    assert "still breached: overdue by 4h 5m of business time (reminder 2)" in message.text


def test_late_nudge_says_how_late_and_why():
    message = render_nudge(facts(planned_at=NOW - timedelta(hours=2)), TICKET, thread())
    assert message.text.endswith("\nsent 2h late: the bot was offline")


def test_nudge_a_few_seconds_behind_plan_is_not_called_late():
    message = render_nudge(facts(planned_at=NOW - timedelta(seconds=3)), TICKET, thread())
    assert "late" not in message.text


def test_due_instant_on_another_day_shows_the_day():
    monday_evening = datetime(2026, 11, 23, 16, 55, tzinfo=UTC)
    tuesday = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert format_instant(tuesday, "Europe/Berlin", monday_evening) == "Tue 24 Nov 09:30 Berlin"
    assert format_instant(tuesday, "America/New_York", tuesday) == "03:30 New York"


def test_permalink_is_built_from_the_workspace_url():
    assert (
        thread_permalink("https://acme.slack.com/", "C1", "1763889480.000100")
        == "https://acme.slack.com/archives/C1/p1763889480000100"
    )
    assert thread_permalink(None, "C1", "1.2") is None


class RecordingNotifier:
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def _call(self, kind, target, text, **kw):
        if target == self.fail_on:
            raise RuntimeError("slack said no")
        self.calls.append((kind, target, text))
        return {"ok": True, "ts": f"{len(self.calls)}.0"}

    def post_thread_reply(self, channel, thread_ts, text, **kw):
        return self._call("thread", channel, text, **kw)

    def post_message(self, channel, text, **kw):
        return self._call("channel", channel, text, **kw)

    def dm_user(self, user, text, **kw):
        return self._call("dm", user, text, **kw)


def test_delivery_skips_destinations_already_reached_and_records_progress():
    notifier = RecordingNotifier()
    deliveries = plan_deliveries(
        {Audience.THREAD, Audience.ESCALATION_CHANNEL, Audience.MANAGERS}, TICKET, ESCALATION
    )
    progress = []
    report = deliver_nudge(
        notifier,
        facts(threshold=1.0, remaining=timedelta(0)),
        TICKET,
        deliveries,
        already={"thread:C1"},
        on_delivered=lambda d, ts: progress.append(d.key),
    )
    assert [c[:2] for c in notifier.calls] == [
        ("channel", "CESC"),
        ("dm", "UBOSS1"),
        ("dm", "UBOSS2"),
    ]
    assert progress == ["channel:CESC", "dm:UBOSS1", "dm:UBOSS2"]
    assert report.thread_ts is None


def test_delivery_stops_at_a_failure_after_recording_what_went_out():
    notifier = RecordingNotifier(fail_on="UBOSS1")
    deliveries = plan_deliveries({Audience.THREAD, Audience.MANAGERS}, TICKET, ESCALATION)
    progress = []
    with pytest.raises(RuntimeError, match="slack said no"):
        deliver_nudge(
            notifier,
            facts(threshold=1.0, remaining=timedelta(0)),
            TICKET,
            deliveries,
            on_delivered=lambda d, ts: progress.append((d.key, ts)),
        )
    assert progress == [("thread:C1", "1.0")]


def test_business_durations_are_hours_not_days_a_24h_target_is_not_one_day():
    """A P3 resolution target of 24 business hours is three working days, never '1d'."""
    half_way = render_nudge(
        facts(threshold=0.5, target=timedelta(hours=24), remaining=timedelta(hours=12)),
        TICKET,
        thread(),
    )
    assert "due in 12h of business time" in half_way.text
    assert "50% of the 24h target is used" in half_way.text
    breach = render_nudge(
        facts(threshold=1.0, target=timedelta(hours=40), remaining=timedelta(hours=-26)),
        TICKET,
        thread(),
    )
    assert "target of 40h breached" in breach.text
    assert "overdue by 26h of business time" in breach.text
    reminder = render_nudge(
        facts(threshold=1.0, seq=1, target=timedelta(hours=24), remaining=timedelta(hours=-30)),
        TICKET,
        thread(),
    )
    assert "overdue by 30h of business time (reminder 1)" in reminder.text


def test_lateness_stays_wall_clock_time_with_days():
    late = render_nudge(facts(planned_at=NOW - timedelta(hours=26)), TICKET, thread())
    assert "sent 1d 2h late: the bot was offline" in late.text


@pytest.mark.parametrize(("reason", "label"), [
    ("ticket resolved", "resolved"),
    ("ticket paused", "paused"),
    ("first_response no longer running", "stopped"),
    ("next_response cycle 0 is over", "stopped"),
    ("superseded by the breach", "superseded"),
    ("superseded by a more severe nudge already sent", "superseded"),
])
def test_each_cancellation_is_counted_under_one_reason(reason, label):
    from bot.nudges import cancel_reason_label

    assert cancel_reason_label(reason) == label
