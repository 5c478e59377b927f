"""The digest and report messages read well and always fit Slack's Block Kit limits."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.views.blocks import BlockKitLimitError, check_block_kit_limits
from bot.views.digest import (
    digest_fallback_text,
    render_digest,
    render_report,
    report_fallback_text,
)
from commands.reporting import (
    AtRiskRow,
    BreachRow,
    CreditLine,
    DigestData,
    MetricRow,
    MetricTrend,
    MissGroup,
    ReportData,
)
from sla.periods import Period

WEEK = Period(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC),
              "Nov 16 to Nov 22")
WEEK_BEFORE = Period(WEEK.start - timedelta(days=7), WEEK.start, "Nov 9 to Nov 15")


def _text(blocks):
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e["text"] for e in block.get("elements", [])]
    return "\n".join(parts)


def _breach(n, channel="C0SUPPORT"):
    return BreachRow(f"SLA-{n}", channel, "P1", "resolution", timedelta(hours=2, minutes=15),
                     f"https://acme.slack.com/archives/{channel}/p17000000000{n:05d}")


def _digest(**overrides):
    values = dict(
        scope="<#C0SUPPORT>",
        period=WEEK,
        previous=WEEK_BEFORE,
        tz="Europe/Berlin",
        opened=14,
        resolved=12,
        metrics=(
            MetricTrend("first_response", 11, 1, 91.66666, 87.5, timedelta(minutes=25),
                        timedelta(hours=1, minutes=10)),
            MetricTrend("resolution", 9, 3, 75.0, 80.0, timedelta(hours=5),
                        timedelta(days=2, hours=3)),
        ),
        breaches=(_breach(42), _breach(43, "C0OPS")),
        channels_missed=(MissGroup("C0SUPPORT", 3, 70.0), MissGroup("C0OPS", 1, 90.0)),
        priorities_missed=(MissGroup("P1", 2, 50.0),),
        at_risk=(AtRiskRow("SLA-50", "C0SUPPORT", "first_response",
                           datetime(2026, 11, 23, 13, 0, tzinfo=UTC), timedelta(minutes=12)),),
    )
    values.update(overrides)
    return DigestData(**values)


def test_digest_headline_shows_met_percent_with_trend_against_the_week_before():
    text = _text(render_digest(_digest()))
    assert "*First response*\n91.7% met ↑ +4.2 pp (was 87.5%)\n11 met · 1 breached" in text
    assert "*Resolution*\n75% met ↓ -5 pp (was 80%)\n9 met · 3 breached" in text
    assert "14 opened · 12 resolved" in text
    assert "First response: 25m / 1h 10m" in text
    assert "Resolution: 5h / 51h" in text  # business hours, never "d"


def test_digest_lists_breaches_with_links_to_their_threads():
    text = _text(render_digest(_digest()))
    assert "*Breaches* (2)" in text
    assert ("• <https://acme.slack.com/archives/C0SUPPORT/p1700000000000042|SLA-42> P1 "
            "resolution, 2h 15m over in <#C0SUPPORT>") in text
    assert "<#C0OPS>" in text


def test_digest_names_what_missed_most_and_what_is_at_risk_now():
    text = _text(render_digest(_digest()))
    assert "Channels: <#C0SUPPORT> 3 breaches (70% met), <#C0OPS> 1 breach (90% met)" in text
    assert "Priorities: P1 2 breaches (50% met)" in text
    # 13:00 UTC is 14:00 in Berlin in November.
    assert "• SLA-50 first response due in 12m (Mon 14:00) in <#C0SUPPORT>" in text


def test_flat_trend_and_missing_previous_week_read_plainly():
    metrics = (
        MetricTrend("first_response", 10, 0, 100.0, 100.0, None, None),
        MetricTrend("resolution", 1, 1, 50.0, None, None, None),
    )
    text = _text(render_digest(_digest(metrics=metrics, breaches=())))
    assert "100% met → ±0 pp (was 100%)" in text
    assert "50% met (no data the week before)" in text
    assert "*Breaches*: none" in text
    assert "First response: n/a / n/a" in text


def test_empty_week_is_one_line():
    quiet = (MetricTrend("first_response", 0, 0, None, 90.0, None, None),
             MetricTrend("resolution", 0, 0, None, None, None, None))
    empty = _digest(opened=0, resolved=0, breaches=(), channels_missed=(), priorities_missed=(),
                    at_risk=(), metrics=quiet)
    blocks = render_digest(empty)
    assert blocks == [{"type": "section", "text": {
        "type": "mrkdwn", "text": "No SLA tickets in <#C0SUPPORT> last week (Nov 16 to Nov 22)."}}]
    assert digest_fallback_text(empty) == blocks[0]["text"]["text"]


def test_huge_week_is_capped_and_still_fits_block_kit_limits():
    breaches = tuple(_breach(n, channel="C" + "X" * 60) for n in range(500))
    at_risk = tuple(
        AtRiskRow(f"SLA-{n}", "C0SUPPORT", "resolution", None, timedelta(minutes=n))
        for n in range(300)
    )
    blocks = render_digest(_digest(breaches=breaches, at_risk=at_risk))
    check_block_kit_limits(blocks)
    text = _text(blocks)
    assert "*Breaches* (500)" in text
    assert "…and 490 more" in text
    assert "…and 290 more" in text


def test_digest_fallback_text_names_scope_week_and_headline():
    assert digest_fallback_text(_digest()) == (
        "Weekly SLA digest for <#C0SUPPORT>, Nov 16 to Nov 22: First response 91.7%, "
        "Resolution 75%."
    )


def _report(**overrides):
    values = dict(
        scope="<#C0SUPPORT>",
        period=Period(WEEK.start, WEEK.end, "October 2026"),
        tz="UTC",
        ticket_count=20,
        totals=(
            MetricRow("first_response", None, None, 18, 2, 90.0, timedelta(minutes=20),
                      timedelta(hours=1)),
            MetricRow("resolution", None, None, 17, 3, 85.0, timedelta(hours=4),
                      timedelta(hours=20)),
        ),
        rows=(
            MetricRow("first_response", "P1", timedelta(minutes=15), 3, 1, 75.0,
                      timedelta(minutes=9), timedelta(minutes=30)),
            MetricRow("resolution", "P1", timedelta(hours=4), 4, 0, 100.0, timedelta(hours=2),
                      timedelta(hours=3)),
            MetricRow("first_response", "P3", timedelta(hours=4), 15, 1, 93.75, None, None),
        ),
        worst=(_breach(7),),
        credit=CreditLine("resolution", 85.0, 10.0, 90.0),
        formula="Met % = met / (met + breached).",
    )
    values.update(overrides)
    return ReportData(**values)


def test_report_shows_targets_counts_percentiles_per_priority_and_metric():
    blocks = render_report(_report())
    check_block_kit_limits(blocks)
    text = _text(blocks)
    assert ("*All priorities · First response*\n90% · 18 met, 2 breached\n"
            "median 20m · p90 1h") in text
    assert "*P1 · First response* (target 15m)\n75% · 3 met, 1 breached" in text
    assert "*P1 · Resolution* (target 4h)\n100% · 4 met, 0 breached" in text
    assert "*P3 · First response* (target 4h)\n93.8% · 15 met, 1 breached\nmedian n/a" in text
    assert "*Worst breaches*" in text
    assert "Met % = met / (met + breached)." in text


def test_report_states_the_service_credit_owed():
    text = _text(render_report(_report()))
    assert "*Service credit*: 10% owed: resolution compliance 85% is below 90%." in text
    none_owed = _text(render_report(_report(credit=CreditLine("resolution", 97.0, None, None))))
    assert "*Service credit*: none owed (resolution compliance 97%)." in none_owed


def test_report_without_tickets_says_so():
    empty = _report(ticket_count=0, rows=(), worst=(), credit=None,
                    totals=(MetricRow("first_response", None, None, 0, 0, None, None, None),))
    assert "No SLA tickets in <#C0SUPPORT> for October 2026." in _text(render_report(empty))
    assert report_fallback_text(empty).endswith("First response n/a.")


def test_limit_checker_rejects_too_many_blocks_and_long_sections():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(BlockKitLimitError, match="51 blocks"):
        check_block_kit_limits([section] * 51)
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(BlockKitLimitError, match="section text of 3001 chars"):
        check_block_kit_limits([long])
    many_fields = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    with pytest.raises(BlockKitLimitError, match="11 fields"):
        check_block_kit_limits([many_fields])


def test_report_of_one_ticket_says_ticket_not_tickets():
    assert "· 1 ticket ·" in _text(render_report(_report(ticket_count=1)))
    assert "· 20 tickets ·" in _text(render_report(_report()))
