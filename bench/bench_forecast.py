"""Backtest the breach forecast against the naive rule "due within 4 business hours".

Run: ``python bench/bench_forecast.py`` (``--seed`` and ``--weeks`` to vary the history).

Seeded history, one channel on Mon-Fri 09:00-17:00 UTC: tickets arrive at random (busier
mornings, a few out of hours), P2/P3/P4 (first response 1h/4h/8h) at 20/60/20%. The team
answers minute by minute at a pace that changes day to day (0.5x to 1.5x of 3 an hour,
busier mornings), usually the earliest due ticket, one time in five any waiting ticket.

Backtest: at every business hour of the last ``--weeks - 4`` weeks, the tickets waiting for
an answer and not yet breached are forecast with ``sla.forecast`` (the pace of the four
weeks before that instant), and compared with what happened: "breached within the next 4
business hours" = due before the horizon and answered after its due instant. The naive
rule flags every waiting ticket due before the horizon. Printed: precision and recall of
both, over all (instant, ticket) pairs, and which is better on each.

Note the naive rule's recall is 100% by construction (a ticket can only breach within the
horizon if it is due within it): the forecast can at best tie on recall and must win on
precision, and this bench says so when it does not.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sla.calendar import BusinessCalendar
from sla.forecast import Waiting, forecast, team_pace

CALENDAR = BusinessCalendar("UTC", {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed",
                                                                         "thu", "fri")})
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
TARGETS = ((timedelta(hours=1), 20), (timedelta(hours=4), 60), (timedelta(hours=8), 20))
HORIZON_HOURS = 4
MINUTE = timedelta(minutes=1)


@dataclass
class Ticket:
    key: str
    created: datetime
    due: datetime
    answered: datetime | None = None


def history(rng: random.Random, weeks: int) -> tuple[list[Ticket], list[datetime]]:
    """Tickets and the team's answers, minute by minute over ``weeks`` weeks."""
    targets = [t for t, w in TARGETS for _ in range(w)]
    tickets: list[Ticket] = []
    answers: list[datetime] = []
    waiting: list[Ticket] = []
    day_factor = 1.0
    t = START
    end = START + timedelta(weeks=weeks)
    while t < end:
        if t.hour == 0 and t.minute == 0:
            day_factor = rng.uniform(0.5, 1.5)
        open_now = CALENDAR.is_open(t)
        arrivals = (2.6 if t.hour < 12 else 1.6) if open_now else 0.15
        if rng.random() < arrivals / 60:
            ticket = Ticket(f"SLA-{len(tickets) + 1}", t, CALENDAR.due(t, rng.choice(targets))
                            .astimezone(UTC))
            tickets.append(ticket)
            waiting.append(ticket)
        if open_now and waiting:
            pace = 3.0 * day_factor * (1.2 if t.hour < 12 else 0.85)
            if rng.random() < pace / 60:
                if rng.random() < 0.2:
                    chosen = rng.choice(waiting)
                else:
                    chosen = min(waiting, key=lambda w: (w.due, w.key))
                waiting.remove(chosen)
                chosen.answered = t
                answers.append(t)
        t += MINUTE
    return tickets, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tickets, answers = history(rng, args.weeks)
    print(f"{len(tickets):,} tickets, {len(answers):,} answers over {args.weeks} weeks "
          f"(seed {args.seed}); backtest over the last {args.weeks - 4} weeks")

    tallies = {"forecast": [0, 0, 0], "naive": [0, 0, 0]}  # true pos, predicted, actual
    instants = 0
    t = START + timedelta(weeks=4)
    end = START + timedelta(weeks=args.weeks) - timedelta(days=2)
    while t < end:
        if CALENDAR.is_open(t) and t.minute == 0:
            instants += 1
            waiting = [k for k in tickets if k.created <= t
                       and (k.answered is None or k.answered > t) and k.due > t]
            pace = team_pace([a for a in answers if a <= t], CALENDAR, t)
            result = forecast([Waiting(k.key, k.due) for k in waiting], pace, CALENDAR, t,
                              hours=HORIZON_HOURS)
            horizon = result.horizon_end
            truth = {k.key for k in waiting if k.due <= horizon
                     and (k.answered is None or k.answered > k.due)}
            predicted = {
                "forecast": {e.key for e in result.likely},
                "naive": {k.key for k in waiting if k.due <= horizon},
            }
            for name, keys in predicted.items():
                tallies[name][0] += len(keys & truth)
                tallies[name][1] += len(keys)
                tallies[name][2] += len(truth)
        t += timedelta(hours=1)

    figures = {}
    for name, (hit, said, real) in tallies.items():
        precision = hit / said if said else 0.0
        recall = hit / real if real else 0.0
        figures[name] = (precision, recall)
        print(f"  {name:8s} precision {precision:6.1%}  recall {recall:6.1%}  "
              f"({hit:,} right of {said:,} flagged; {real:,} breaches happened)")
    (fp, fr), (np_, nr) = figures["forecast"], figures["naive"]
    print(f"  over {instants:,} instants, horizon {HORIZON_HOURS} business hours")
    print(f"  precision: {'forecast better' if fp > np_ else 'naive rule better or equal'} "
          f"({fp:.1%} vs {np_:.1%})")
    print(f"  recall:    {'forecast better' if fr > nr else 'naive rule better or equal'} "
          f"({fr:.1%} vs {nr:.1%}; the naive rule's recall is 100% by construction)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
