"""Every view shows what people typed as text: no ping, no disguised link, no formula.

Walks every renderer with `tests.hostile_text.HOSTILE` (`<!channel>`, `<!here>`, `<!everyone>`,
a user group, a disguised link, `&`, a user mention) wherever user text can reach it, and the
same words as Slack sends them (already escaped once). Mentions the bot builds stay live.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.listeners.sla_command import answer, sla_router
from bot.nudge_messages import Delivery, DeliveryKind, NudgeFacts, NudgeTicket, render_nudge
from bot.views.card import render_ticket_card
from bot.views.digest import render_digest, render_report
from bot.views.home import render_home
from bot.views.tickets import history_line, render_ticket_detail, render_ticket_list
from commands.errors import NotFound, UsageError, friendly_message
from commands.home import HomeItem
from commands.report_csv import TicketCsvRow, tickets_csv
from commands.reporting import (
    AtRiskRow,
    BreachRow,
    DigestData,
    MetricRow,
    MetricTrend,
    MissGroup,
    ReportData,
)
from commands.router import error_message
from commands.text import (
    channel_mention,
    csv_cell,
    escape_mrkdwn,
    plain_message,
    quote,
    user_mention,
)
from commands.tickets import HistoryEntry, ListFilter
from sla.clock import compute_clock
from sla.durations import DurationError
from sla.events import ClockEvent, EventKind
from sla.periods import Period
from sla.policy import Policy
from sla.targets import Audience, Metric, Priority
from storage.models import Ticket
from tests.hostile_text import (
    HOSTILE,
    HOSTILE_AS_SLACK_SENDS,
    assert_ampersands_escaped,
    assert_no_user_markup,
    user_markup_in,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TEXTS = [pytest.param(HOSTILE, id="typed-raw"), pytest.param(HOSTILE_AS_SLACK_SENDS, id="as-slack")]
PERMALINK = "https://acme.slack.com/archives/C1/p1763899200000100"


def _clock():
    return compute_clock([ClockEvent(EventKind.CREATED, NOW - timedelta(hours=1), Priority.P2)],
                         Policy.default(), NOW)


def _ticket(text: str, **kw) -> Ticket:
    values = {
        "workspace_id": 1, "number": 2, "key": "SLA-2", "channel_id": "C1", "message_ts": "1.0",
        "thread_ts": "1.0", "requester_id": "UREQ", "assignee_id": "UAGENT", "priority": "P2",
        "status": "open", "title": text, "text": text, "created_at": NOW - timedelta(hours=1),
        "permalink": PERMALINK,
    }
    values.update(kw)
    return Ticket(**values)


def _safe(value) -> None:
    assert_no_user_markup(value)
    assert_ampersands_escaped(value)


# -- the helpers --------------------------------------------------------------------------------


def test_escape_follows_slacks_rule_and_never_escapes_twice():
    assert escape_mrkdwn("a & b <!here> > c") == "a &amp; b &lt;!here&gt; &gt; c"
    # Slack sends typed & < > as entities: they are shown as typed, not as "&amp;amp;".
    assert escape_mrkdwn("a &amp; b &lt;!here&gt;") == "a &amp; b &lt;!here&gt;"
    assert escape_mrkdwn(escape_mrkdwn(HOSTILE)) == escape_mrkdwn(HOSTILE)


def test_quoted_input_is_clipped_and_escaped():
    quoted = quote("<!channel>" * 50)
    assert len(quoted) < 200 and quoted.endswith("…") and "<" not in quoted


def test_a_pasted_page_in_an_error_comes_back_as_its_first_hundred_characters():
    message = plain_message(f"cannot read {'9' * 100_000!r}; write 15m")
    assert len(message) < 200 and message.endswith("… write 15m")


def test_mentions_the_bot_builds_stay_live_and_anything_else_is_text():
    assert user_mention("U123ABC") == "<@U123ABC>"
    assert channel_mention("C0SUPPORT") == "<#C0SUPPORT>"
    assert user_mention("U1> <!channel") == "U1&gt; &lt;!channel"
    assert channel_mention("<!here>") == "&lt;!here&gt;"


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"https://evil.example\")", "+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote(cell):
    assert csv_cell(cell) == "'" + cell
    assert csv_cell("SLA-2") == "SLA-2" and csv_cell("met") == "met"


# -- views ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_ticket_card_shows_the_message_without_pings_but_keeps_bot_mentions(text):
    blocks = render_ticket_card(_ticket(text), _clock(), "Europe/Berlin", NOW)
    _safe(blocks)
    header = blocks[0]["text"]["text"]
    assert "&lt;!channel&gt;" in header and "&amp;" in header
    assert "<@UREQ>" in header and "<@UAGENT>" in header


@pytest.mark.parametrize("text", TEXTS)
def test_app_home_shows_titles_as_text(text):
    item = HomeItem("SLA-2", "P2", "open", "C1", text, PERMALINK, _clock())
    view = render_home("UREQ", [item], "UTC", NOW)
    _safe(view)
    assert f"<{PERMALINK}|SLA-2>" in str(view) and "<#C1>" in str(view)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("which", list(ListFilter))
def test_ticket_lists_show_titles_as_text(text, which):
    reply = render_ticket_list([_ticket(text), _ticket(text, title="")], which, channel_id=None,
                               tz="UTC", now=NOW)
    _safe(reply)
    assert f"<{PERMALINK}|SLA-2>" in reply.text


@pytest.mark.parametrize("text", TEXTS)
def test_ticket_detail_shows_text_and_reasons_as_text(text):
    history = [
        HistoryEntry(NOW - timedelta(minutes=m), kind, "UAGENT", "P1", note)
        for m, kind, note in ((50, "paused", text), (40, "resolved", text), (30, "note", text),
                              (20, "assigned", text), (10, "reopened", None))
    ]
    reply = render_ticket_detail(_ticket(text), _clock(), "UTC", NOW, history)
    _safe(reply)
    assert "<@UAGENT>" in str(reply.blocks)


def test_history_of_an_assignment_mentions_only_a_real_user_id():
    line = history_line(HistoryEntry(NOW, "assigned", "UAGENT", None, "UNEW"), "UTC", NOW)
    assert "assigned to <@UNEW> by <@UAGENT>" in line
    _safe(history_line(HistoryEntry(NOW, "assigned", None, None, HOSTILE), "UTC", NOW))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    "error",
    [
        lambda t: UsageError(f"`{t}` is not a ticket key", "/sla ticket SLA-42"),
        lambda t: DurationError(f"cannot read {t!r}"),
        lambda t: ValueError(t),
    ],
)
def test_errors_that_quote_input_show_it_as_text(text, error):
    exc = error(text)
    _safe(friendly_message(exc)[0])
    _safe(error_message(exc, default_usage="/sla x"))


def test_not_found_keeps_the_channel_link_the_bot_wrote():
    assert "<#C1>" in friendly_message(NotFound("There is no ticket SLA-9 in <#C1>."))[0]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    "line",
    ["{t}", "help {t}", "policy {t}", "digest {t}", "report 7d {t}", "ticket {t}", "resolve {t}",
     "list {t}", "status {t}", "escalate {t}", "responders {t}", "track {t}",
     "policy set {t}", "policy set P1 {t}", "policy nudges {t}", "policy credits {t}",
     "priority SLA-1 {t}", "digest subscribe {t}", "digest unsubscribe {t} x", "digest list {t}"],
)
def test_verbs_that_refuse_input_quote_it_as_text(text, line):
    # All of these refuse before touching Slack or the database (usage errors).
    reply = answer(sla_router(), None, {"text": line.format(t=text), "team_id": "T1",
                                        "channel_id": "C1", "user_id": "U1"})
    _safe(reply)
    assert reply.public is False


# -- digest, report, CSV, nudges -------------------------------------------------------------


WEEK = Period(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), "Nov 16")


def test_digest_and_report_show_odd_ids_as_text_and_keep_real_links():
    odd = HOSTILE
    breach = BreachRow("SLA-2", odd, "P1", "resolution", timedelta(hours=1), PERMALINK)
    digest = DigestData(
        scope="<#C1>", period=WEEK, previous=WEEK, tz="UTC", opened=1, resolved=1,
        metrics=(MetricTrend("resolution", 1, 1, 50.0, 40.0, timedelta(hours=1), None),),
        breaches=(breach, BreachRow("SLA-3", "C1", "P1", "resolution", timedelta(1),
                                    "https://evil.example/x|<!channel>")),
        channels_missed=(MissGroup(odd, 1, 50.0),), priorities_missed=(),
        at_risk=(AtRiskRow("SLA-4", odd, "first_response", NOW, timedelta(minutes=5)),),
    )
    _safe(render_digest(digest))
    assert f"<{PERMALINK}|SLA-2>" in str(render_digest(digest))
    report = ReportData(
        scope="<#C1>", period=WEEK, tz="UTC", ticket_count=1,
        totals=(MetricRow("resolution", None, None, 1, 1, 50.0, None, None),), rows=(),
        worst=(breach,), credit=None, formula="Met %",
    )
    _safe(render_report(report))


def test_csv_cells_cannot_run_as_formulas():
    row = TicketCsvRow(
        ticket="=HYPERLINK(\"https://evil.example\",\"x\")", channel="@C1", priority="+P1",
        status="-open", created_at=NOW, first_response_at=None, resolved_at=None,
        first_response_business=None, first_response_target=None, first_response="=1+1",
        resolution_business=None, resolution_target=None, resolution="running", link="=x",
    )
    [header, cells] = list(csv.reader(io.StringIO(tickets_csv([row]))))
    text_cells = [cells[header.index(c)] for c in
                  ("ticket", "channel", "priority", "status", "first_response", "link")]
    assert all(c.startswith("'") for c in text_cells), text_cells
    assert cells[header.index("resolution")] == "running"


@pytest.mark.parametrize("kind", list(DeliveryKind))
def test_nudges_mention_only_real_ids_and_link_only_real_permalinks(kind):
    ticket = NudgeTicket(key="SLA-2", channel_id="<!channel>", thread_ts="1.0",
                         assignee="<!here>", permalink="https://evil.example|<!everyone>")
    facts = NudgeFacts(Metric.FIRST_RESPONSE, 1.0, 0, timedelta(hours=1), -timedelta(minutes=5),
                       NOW, NOW, NOW)
    message = render_nudge(facts, ticket, Delivery(kind, "C1", Audience.THREAD))
    assert not user_markup_in(message)
    good = NudgeTicket(key="SLA-2", channel_id="C1", thread_ts="1.0", assignee="UAGENT",
                       permalink=PERMALINK)
    text = render_nudge(facts, good, Delivery(kind, "C1", Audience.THREAD)).text
    assert "<@UAGENT>" in text if kind is DeliveryKind.THREAD else f"<{PERMALINK}|" in text


@dataclass
class _Row:
    key: str = "SLA-2"
    priority: str = "P2"
    status: str = "open"
    requester_id: str = "<!channel>"
    assignee_id: str | None = "<@U999>"
    text: str = HOSTILE
    channel_id: str = "C1"


def test_a_card_with_odd_ids_shows_them_as_text():
    _safe(render_ticket_card(_Row(), _clock(), "UTC", NOW))
