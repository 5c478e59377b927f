"""Responder rollups: kept current by every stored change of a ticket, equal to a rebuild,
and the figures read from them equal to `sla.responders.responder_rows` over the tickets'
histories for any period, scope and person."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from sla.clock import compute_clock
from sla.events import EventKind
from sla.responders import ASSIGNED, ResponderTicket, responder_rows
from storage import repositories as repo
from storage.repositories import responder_rollups
from storage.repositories.histories import actor_history, clock_history, load_period_tickets
from storage.repositories.responder_reads import responder_figures
from storage.repositories.rollup_reads import live_values
from tests.storage.builders import ALWAYS, PRIORITIES, H, ticket, workspace
from tests.storage.rollup_history import NOW, POLICIES, _instant, periods

PEOPLE = ["UANN", "UBO", "UCY", "UDI"]
# What happens to a ticket, by whom: answers and assignments often, the rest now and then.
STEPS = [EventKind.RESPONDED, EventKind.RESPONDED, EventKind.RESPONDED, ASSIGNED, ASSIGNED,
         EventKind.REQUESTER_REPLIED, EventKind.PAUSED, EventKind.RESUMED, EventKind.RESOLVED,
         EventKind.RESOLVED, EventKind.REOPENED, EventKind.PRIORITY_CHANGED]


def grow_people_history(uow, ws, rng: random.Random, count: int, *, days: int) -> None:
    """``count`` tickets over the ``days`` before NOW with who did what, stored as the bot
    stores them: a clock entry appended and the clock applied at its instant; an assignment
    appended alone (it moves no clock)."""
    with uow() as s:
        for channel, policy in POLICIES.items():
            repo.save_policy(session=s, workspace_id=ws.id, policy=policy, channel_id=channel)
    for n in range(count):
        channel = rng.choice(list(POLICIES))
        created = _instant(rng, NOW - timedelta(days=days), NOW)
        with uow() as s:
            made = ticket(s, ws, f"{n}.{rng.randrange(10**6)}", at=created, channel=channel,
                          priority=rng.choice(PRIORITIES), policy=POLICIES[channel])
        at = created
        for _ in range(rng.randint(1, 9)):
            at = _instant(rng, at, at + timedelta(hours=rng.choice([1, 3, 10, 40])))
            if at >= NOW:
                break
            _step(uow, made.id, rng.choice(STEPS), at, rng, POLICIES[channel])


def _step(uow, ticket_id: int, kind, at, rng: random.Random, policy) -> None:
    with uow() as s:
        row = repo.get_ticket(session=s, ticket_id=ticket_id)
        if kind == ASSIGNED:
            repo.append_event(session=s, ticket=row, kind=ASSIGNED, at=at,
                              actor_id=rng.choice(PEOPLE), note=rng.choice([*PEOPLE, ""]))
            return
        actor = rng.choice([*PEOPLE, None]) if kind != EventKind.REQUESTER_REPLIED else "U_REQ"
        repo.append_event(session=s, ticket=row, kind=kind, at=at, actor_id=actor, priority=(
            rng.choice(PRIORITIES) if kind is EventKind.PRIORITY_CHANGED else None))
        events = repo.load_clock_events(session=s, ticket_id=row.id)
        repo.apply_clock(session=s, ticket=row, clock=compute_clock(events, policy, at))


def histories(session, workspace_id: int) -> list[tuple[str, ResponderTicket]]:
    """Every ticket of the workspace as `sla.responders` reads it, with its channel."""
    every = load_period_tickets(session=session, workspace_id=workspace_id,
                                start=NOW - timedelta(days=999), end=NOW + timedelta(days=999))
    return [(t.channel_id, ResponderTicket(t.key, clock_history(t.events),
                                           actor_history(t.events))) for t in every]


def snapshot(session, workspace_id: int) -> tuple[dict, dict]:
    """The contribution rows per ticket, and the rollups as what they count (rows with
    nothing in them left out, elapsed blobs as multisets of what is still in them)."""
    facts = responder_rollups.FACTS
    rows: dict[int, list] = {}
    for row in session.execute(select(facts).where(facts.c.workspace_id == workspace_id)
                               .order_by(facts.c.ticket_id, facts.c.seq)):
        rows.setdefault(row.ticket_id, []).append(
            (row.channel_id, row.kind, row.at, row.user_id, row.elapsed_us))
    table = responder_rollups.ROLLUPS
    sums = {}
    for row in session.execute(select(table).where(table.c.workspace_id == workspace_id)):
        counts = (row.first_responses, row.resolutions, row.breaches)
        elapsed = Counter(live_values(row.elapsed).tolist())
        if any(counts) or elapsed:
            sums[row.channel_id, row.day, row.user_id] = (counts, elapsed)
    return rows, sums


@pytest.fixture
def history(uow):
    with uow() as s:
        ws = workspace(s)
    grow_people_history(uow, ws, random.Random(20261210), 60, days=40)
    return ws.id


def test_figures_from_rollups_equal_responder_rows_over_the_histories(uow, history):
    rng = random.Random(11)
    with uow() as s:
        tickets = histories(s, history)
    seen: Counter[str] = Counter()
    for start, end in periods(rng, NOW):
        # Now at the end of the history, inside some periods, and days later.
        for now in (NOW, NOW + timedelta(hours=5), NOW + timedelta(days=2, hours=3)):
            for channels in (None, ["C1"], ["C1", "C3"], []):
                expected = responder_rows(
                    ((t, POLICIES[channel]) for channel, t in tickets
                     if channels is None or channel in channels), start, end, now)
                with uow() as s:
                    found = responder_figures(session=s, workspace_id=history, start=start,
                                              end=end, now=now, channel_ids=channels)
                assert found == expected, (start, end, now, channels)
                person = rng.choice(PEOPLE)
                with uow() as s:
                    own = responder_figures(session=s, workspace_id=history, start=start,
                                            end=end, now=now, channel_ids=channels,
                                            user_id=person)
                assert own == [r for r in expected if r.user_id == person]
                seen.update(checked=1, people=len(found) > 1,
                            first=any(r.first_responses for r in found),
                            resolved=any(r.resolutions for r in found),
                            breaches=any(r.breaches_assigned for r in found))
    # The history is rich enough for the comparison to mean something.
    assert seen["checked"] > 300
    assert min(seen.values()) > 50, seen


def test_rollups_kept_current_equal_a_rebuild(uow, history):
    with uow() as s:
        kept = snapshot(s, history)
    with uow() as s:
        assert responder_rollups.rebuild(s, history) == 60
    with uow() as s:
        assert snapshot(s, history) == kept
    facts, sums = kept
    kinds = Counter(kind for rows in facts.values() for _channel, kind, *_rest in rows)
    assert min(kinds.values()) > 10 and len(kinds) == 3, kinds
    assert len(sums) > 30


def test_a_breach_ahead_is_stored_and_counted_once_its_instant_has_passed(uow):
    """Assigned to Ann, first response due in an hour (P2 on 24x7): stored at once, counted
    only from the due instant on; handed to Bo before it, Bo is charged; an answer in time
    takes the charge back."""
    created = NOW - 3 * H
    with uow() as s:
        ws = workspace(s)
        repo.save_policy(session=s, workspace_id=ws.id, policy=ALWAYS, channel_id="C1")
        made = ticket(s, ws, "1.1", at=created, priority="P2", policy=ALWAYS)

    def figures(now):
        with uow() as s:
            return {r.user_id: (r.first_responses, r.resolutions, r.breaches_assigned)
                    for r in responder_figures(session=s, workspace_id=ws.id,
                                               start=created - H, end=NOW + 9 * H,
                                               now=now)}

    def assign(person, at):
        with uow() as s:
            row = repo.get_ticket(session=s, ticket_id=made.id)
            repo.append_event(session=s, ticket=row, kind=ASSIGNED, at=at, actor_id=person,
                              note=person)

    assign("UANN", created + timedelta(minutes=5))
    due = created + H
    assert figures(due - timedelta(microseconds=1)) == {}
    # Resolution (8h) is due later still; at `due` the first response breached, Ann's.
    assert figures(due) == {"UANN": (0, 0, 1)}
    assign("UBO", created + timedelta(minutes=50))
    assert figures(due) == {"UBO": (0, 0, 1)}
    with uow() as s:  # Cy answers before the target: no first-response breach after all
        row = repo.get_ticket(session=s, ticket_id=made.id)
        repo.append_event(session=s, ticket=row, kind=EventKind.RESPONDED,
                          at=created + timedelta(minutes=55), actor_id="UCY")
        events = repo.load_clock_events(session=s, ticket_id=row.id)
        repo.apply_clock(session=s, ticket=row, clock=compute_clock(events, ALWAYS, NOW))
    assert figures(NOW) == {"UCY": (1, 0, 0)}
    # The resolution (8h) falls due ahead, while Bo has the ticket: stored already.
    assert figures(created + 8 * H) == {"UCY": (1, 0, 0), "UBO": (0, 0, 1)}
    with uow() as s:
        facts, _sums = snapshot(s, ws.id)
    assert [(kind, at, user) for _c, kind, at, user, _e in facts[made.id]] == [
        ("first_response", created + timedelta(minutes=55), "UCY"),
        ("breach", created + 8 * H, "UBO")]
