"""Responder figures of a period from the responder rollups: ``sla.responders.responder_rows``
over the tickets' histories, at a cost that does not grow with the tickets of the period.

For ``[start, end)`` seen at ``now`` (contributions with ``start <= at < end`` and ``at <=
now``), with ``t = min(end, now)``: the whole UTC days inside ``[start, t)`` are summed from
``responder_rollups``; the parts of days at either end (the one holding ``t`` included) are
read from ``responder_facts``. Medians are nearest-rank over the elapsed values of both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, bindparam, func, null, select
from sqlmodel import Session

from sla.responders import ContributionKind, ResponderRow, ranked
from storage.repositories._sql import dialect_name
from storage.repositories.compliance_tally import Micros, concatenate, ranks
from storage.repositories.responder_rollups import COUNTS, FACTS, ROLLUPS
from storage.repositories.rollup_days import midnight, whole_days
from storage.repositories.rollup_reads import blob_rows, concat_blobs, live_values

_FIRST = ContributionKind.FIRST_RESPONSE.value
_NAMES = tuple(COUNTS.values())  # first_responses, resolutions, breaches


def responder_figures(
    *, session: Session, workspace_id: int, start: datetime, end: datetime, now: datetime,
    channel_ids: Sequence[str] | None = None, user_id: str | None = None,
) -> list[ResponderRow]:
    """Per person (only ``user_id`` when given): first responses, their median, resolutions
    and breaches while assigned over ``[start, end)`` seen at ``now``, in a workspace or the
    channels given; most first responses first."""
    if channel_ids is not None and not channel_ids:
        return []
    figures = _Figures()
    scope = {"workspace_id": workspace_id, "channel_ids": channel_ids, "user_id": user_id}
    first, last = whole_days(start, min(end, now))
    if first < last:
        _add_days(session, figures, scope, first, last, channel_ids)
        edges = [(start, midnight(first), False), (midnight(last), None, False)]
    else:
        edges = [(start, None, False)]
    for low, high, inclusive in edges:
        if high is None:  # the upper edge ends at `end` (excluded) or `now` (included)
            high, inclusive = (now, True) if now < end else (end, False)
        if low < high or (low == high and inclusive):
            _add_edge(session, figures, scope, low, high, inclusive)
    return ranked(figures.rows())


class _Figures:
    """Counts and elapsed values per person, added up from several reads."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.values: dict[str, list[Micros]] = {}

    def add(self, user: str, counts: dict[str, int], values: Micros) -> None:
        self.counts.setdefault(user, Counter()).update(counts)
        if values.size:
            self.values.setdefault(user, []).append(values)

    def rows(self) -> list[ResponderRow]:
        return [_row(user, tally, self.values.get(user, []))
                for user, tally in self.counts.items() if any(tally.values())]


def _row(user: str, tally: Counter[str], values: list[Micros]) -> ResponderRow:
    # Nearest rank, as the compliance figures (and sla.compliance.nearest_rank).
    median = ranks(concatenate(values))[50]
    return ResponderRow(user, first_responses=tally["first_responses"],
                        median_first_response=median, resolutions=tally["resolutions"],
                        breaches_assigned=tally["breaches"])


def _add_days(session: Session, figures: _Figures, scope: dict[str, Any], first: date,
              last: date, channel_ids: Sequence[str] | None) -> None:
    """Add the whole days ``[first, last)`` from the rollups (grouped per channel when only
    some channels count: their blobs come apart, and the filter is applied here)."""
    statement = _days_statement(dialect_name(session), channel_ids is not None,
                                scope["user_id"] is not None)
    wanted = None if channel_ids is None else set(channel_ids)
    for user, channel, *sums, blob in blob_rows(session, statement,
                                                {**scope, "first": first, "last": last,
                                                 "channel_ids": None}):
        if wanted is None or channel in wanted:
            figures.add(user, dict(zip(_NAMES, (int(n or 0) for n in sums), strict=True)),
                        live_values(blob))


def _add_edge(session: Session, figures: _Figures, scope: dict[str, Any], low: datetime,
              high: datetime, inclusive: bool) -> None:
    """Add the contributions with ``low <= at < high`` (``<=`` when ``inclusive``)."""
    f = FACTS.c
    statement = select(f.user_id, f.kind, f.elapsed_us).where(
        *_scope(f, scope), f.at >= low, f.at <= high if inclusive else f.at < high)
    counts: dict[str, Counter[str]] = {}
    values: dict[str, list[int]] = {}
    for user, kind, elapsed in session.execute(statement, scope):
        counts.setdefault(user, Counter())[COUNTS[kind]] += 1
        if kind == _FIRST:
            values.setdefault(user, []).append(elapsed)
    for user, tally in counts.items():
        figures.add(user, tally, np.array(values.get(user, []), dtype=np.int64))


def _scope(columns: Any, scope: dict[str, Any]) -> list[ColumnElement[bool]]:
    clauses = [columns.workspace_id == bindparam("workspace_id")]
    if scope["channel_ids"] is not None:
        clauses.append(columns.channel_id.in_(bindparam("channel_ids", expanding=True)))
    if scope["user_id"] is not None:
        clauses.append(columns.user_id == bindparam("user_id"))
    return clauses


@cache
def _days_statement(dialect: str, by_channel: bool, by_user: bool) -> Select[Any]:
    r = ROLLUPS.c
    channel = r.channel_id if by_channel else null().label("channel_id")
    statement = (
        select(r.user_id, channel, *(func.sum(r[name]) for name in _NAMES),
               concat_blobs(r.elapsed, dialect).label("elapsed"))
        .where(r.workspace_id == bindparam("workspace_id"), r.day >= bindparam("first"),
               r.day < bindparam("last"))
        .group_by(r.user_id, *((r.channel_id,) if by_channel else ())))
    if by_user:
        statement = statement.where(r.user_id == bindparam("user_id"))
    return statement
