"""The digest's near misses, breach causes and forecast on a week computed by hand.

Stock targets (P1 15m/4h, P2 1h/8h); #C1 runs 24x7, #C3 Mon-Fri 09:00-17:00 UTC. The digest
slot is Monday 2026-11-23 09:00 UTC: last week is Mon 16 00:00 to Mon 23 00:00.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.views.blocks import check_block_kit_limits
from bot.views.digest import render_digest
from commands.digest_insight import NearMissRow
from commands.digest_send import digest_content
from sla.calendar import BusinessCalendar
from sla.events import EventKind
from sla.policy import Policy
from storage.repositories.ticket_events import append_event
from storage.repositories.tickets import get_ticket_by_key
from storage.repositories.workspaces import save_policy
from tests.clocks import FixedClock
from tests.commands.reporting_fixtures import ticket, utc, workspace

RESPONDED, RESOLVED, REOPENED = EventKind.RESPONDED, EventKind.RESOLVED, EventKind.REOPENED
PAUSED, RESUMED = EventKind.PAUSED, EventKind.RESUMED
SLOT = NOW = utc(2026, 11, 23, 9)
M = timedelta(minutes=1)
OFFICE = Policy.default(BusinessCalendar(
    "UTC", {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")}))


def _week(s, ws):
    def c1(priority, created, *events):
        ticket(s, ws, channel="C1", priority=priority, created=created, events=events)

    # SLA-1, the week before: met with 2m to spare, not this week's near miss.
    c1("P2", utc(2026, 11, 9, 10), (RESPONDED, utc(2026, 11, 9, 10, 58)),
       (RESOLVED, utc(2026, 11, 9, 11)))
    # SLA-2: first response 55m of 1h, resolution 7h30m of 8h: two near misses.
    c1("P2", utc(2026, 11, 16, 10), (RESPONDED, utc(2026, 11, 16, 10, 55)),
       (RESOLVED, utc(2026, 11, 16, 17, 30)))
    # SLA-3: first response 14m of 15m (near miss), resolution 3h of 4h.
    c1("P1", utc(2026, 11, 17, 10), (RESPONDED, utc(2026, 11, 17, 10, 14)),
       (RESOLVED, utc(2026, 11, 17, 13)))
    # SLA-4: 54m of 1h leaves exactly a tenth: no near miss.
    c1("P2", utc(2026, 11, 17, 12), (RESPONDED, utc(2026, 11, 17, 12, 54)),
       (RESOLVED, utc(2026, 11, 17, 14)))
    # SLA-5: resolved after 3h, reopened 2h later, resolved 1h30m after: 4h30m of 4h.
    c1("P1", utc(2026, 11, 18, 10), (RESPONDED, utc(2026, 11, 18, 10, 5)),
       (RESOLVED, utc(2026, 11, 18, 13)), (REOPENED, utc(2026, 11, 18, 15)),
       (RESOLVED, utc(2026, 11, 18, 16, 30)))
    # SLA-6: 10m, paused 2h50m, 1h more: first response 1h10m of 1h, held 2h50m.
    c1("P2", utc(2026, 11, 18, 11), (PAUSED, utc(2026, 11, 18, 11, 10)),
       (RESUMED, utc(2026, 11, 18, 14)), (RESPONDED, utc(2026, 11, 18, 15)),
       (RESOLVED, utc(2026, 11, 18, 16)))
    # SLA-7: handed from UA to UB, answered after 1h30m of 1h.
    c1("P2", utc(2026, 11, 19, 10), (RESPONDED, utc(2026, 11, 19, 11, 30)),
       (RESOLVED, utc(2026, 11, 19, 12)))
    row = get_ticket_by_key(session=s, workspace_id=ws, key="SLA-7")
    for minute, who in ((5, "UA"), (20, "UB")):
        append_event(session=s, ticket=row, kind="assigned", at=utc(2026, 11, 19, 10, minute),
                     actor_id="UA", note=who)
    # SLA-8: never answered: by the slot 71h against 1h and against 8h.
    c1("P2", utc(2026, 11, 20, 10))
    # SLA-9 in #C3: asked Thu 07:00, before opening; answered 10:30: 1h30m of 1h.
    save_policy(session=s, workspace_id=ws, policy=OFFICE, channel_id="C3")
    ticket(s, ws, channel="C3", priority="P2", created=utc(2026, 11, 19, 7), policy=OFFICE,
           events=((RESPONDED, utc(2026, 11, 19, 10, 30)), (RESOLVED, utc(2026, 11, 19, 11))))
    # SLA-10: nothing unusual, answered after 40m of 15m.
    c1("P1", utc(2026, 11, 20, 14), (RESPONDED, utc(2026, 11, 20, 14, 40)),
       (RESOLVED, utc(2026, 11, 20, 15)))


@pytest.fixture
def digest(uow):
    with uow() as s:
        ws = workspace(s)
        _week(s, ws)
    deps = SimpleNamespace(clock=FixedClock(NOW), unit_of_work=uow)
    return digest_content(deps, workspace_id=ws, scope_channel_id=None, tz="UTC",
                          slot_start=SLOT, now=NOW).data


def test_near_misses_are_the_metrics_met_with_under_a_tenth_left_closest_first(digest):
    assert [(r.ticket_key, r.metric, r.spare, r.target) for r in digest.near_misses] == [
        ("SLA-2", "resolution", 30 * M, 8 * 60 * M),  # 6.25% left
        ("SLA-3", "first_response", 1 * M, 15 * M),  # 6.7%
        ("SLA-2", "first_response", 5 * M, 60 * M),  # 8.3%
    ]
    assert all(isinstance(r, NearMissRow) and r.link for r in digest.near_misses)


def test_each_breach_of_the_week_carries_its_cause(digest):
    assert [(b.ticket_key, b.metric, b.over_by, b.cause) for b in digest.breaches] == [
        ("SLA-8", "first_response", 70 * 60 * M, "still not answered"),
        ("SLA-8", "resolution", 63 * 60 * M, "still open"),
        ("SLA-5", "resolution", 30 * M, "reopened"),
        ("SLA-7", "first_response", 30 * M, "reassigned"),
        ("SLA-9", "first_response", 30 * M, "waited for a first responder out of hours"),
        ("SLA-10", "first_response", 25 * M, "answered late in business hours"),
        ("SLA-6", "first_response", 10 * M, "paused longer than worked"),
    ]


def test_the_forecast_names_the_waiting_ticket_that_is_already_past_due(digest):
    [ahead] = digest.forecasts  # only #C1 has a ticket waiting for an answer
    assert ahead.channel_id == "C1"
    assert [e.key for e in ahead.forecast.likely] == ["SLA-8"]


def test_the_digest_message_shows_causes_near_misses_and_the_estimate(digest):
    blocks = render_digest(digest)
    check_block_kit_limits(blocks)
    text = str(blocks)
    assert "10m over in <#C1>: _paused longer than worked_" in text
    assert "*Near misses* (3): met with under 10% of the target left" in text
    assert "first response met with 1m to spare of 15m in <#C1>" in text
    assert "*Likely to breach in the next 4 business hours* (an estimate, from now)" in text
    assert "<#C1>: likely to breach before 13:00 (UTC) unless answered: 1 (SLA-8)" in text
    assert "_estimate: the team answered 8 times here in the last 4 weeks" in text
