"""`slabot report` prints the compliance report and credits owed straight from the database."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import report_cli
from bot.cli import build_parser, main
from sla.calendar import BusinessCalendar
from sla.events import EventKind
from sla.policy import Policy
from storage.db import unit_of_work
from storage.repositories.workspaces import get_or_create_workspace, track_channel
from tests.closing import running_fake_slack
from tests.commands.reporting_fixtures import TEAM, ticket, utc, workspace

NOW = utc(2026, 12, 2, 12)
RESPONDED, RESOLVED = EventKind.RESPONDED, EventKind.RESOLVED
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def november(engine):
    """Three tickets in November 2026 on a 24x7 policy that owes credits below 95% / 90%."""
    policy = Policy.from_spec({
        **Policy.default(calendar=BusinessCalendar.always()).to_spec(),
        "credit_tiers": [{"below_percent": 95, "credit_percent": 5},
                         {"below_percent": 90, "credit_percent": 10}],
    })
    with unit_of_work(engine) as s:
        ws = workspace(s, policy=policy)
        # SLA-1: 30m / 6h, met. SLA-2: 2h / 10h, both late. SLA-3 (P1, #C2): 10m / 3h, met.
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 10, 10), policy=policy,
               events=((RESPONDED, utc(2026, 11, 10, 10, 30)), (RESOLVED, utc(2026, 11, 10, 16))))
        ticket(s, ws, channel="C1", priority="P2", created=utc(2026, 11, 11, 10), policy=policy,
               events=((RESPONDED, utc(2026, 11, 11, 12)), (RESOLVED, utc(2026, 11, 11, 20))))
        ticket(s, ws, channel="C2", priority="P1", created=utc(2026, 11, 12, 9), policy=policy,
               events=((RESPONDED, utc(2026, 11, 12, 9, 10)), (RESOLVED, utc(2026, 11, 12, 12))))
    return engine


def _report(db_url, *argv):
    args = build_parser().parse_args(["report", "--database-url", db_url, *argv])
    out = io.StringIO()
    code = report_cli.run(args, now=NOW, out=out)
    return code, out.getvalue()


def _table(text):
    """Rows of the printed table, split on the column gaps."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()
            if line.startswith(("All ", "P1 ", "P2 ", "P3 ", "P4 "))]


def test_month_report_prints_figures_and_the_credit_owed(db_url, november):
    code, text = _report(db_url, "--month", "2026-11")
    assert code == 0
    assert text.startswith("SLA compliance report: all channels, November 2026 (UTC)\n3 tickets")
    rows = _table(text)
    assert ["All", "First response", "-", "2", "1", "66.7%", "30m", "2h"] in rows
    assert ["All", "Resolution", "-", "2", "1", "66.7%", "6h", "10h"] in rows
    assert ["P1", "First response", "15m", "1", "0", "100%", "10m", "10m"] in rows
    assert ["P2", "Resolution", "8h", "1", "1", "50%", "6h", "10h"] in rows
    assert "SLA-2  P2 resolution, 2h over, channel C1" in text
    assert "Service credit: 10% owed (resolution compliance 66.7% is below 90%)." in text
    assert "Met % = met / (met + breached)" in text


def test_channel_report_and_csv_file(db_url, november, tmp_path):
    target = tmp_path / "tickets.csv"
    code, text = _report(db_url, "--month", "2026-11", "--channel", "C1", "--csv", str(target))
    assert code == 0
    assert "channel C1" in text and "2 tickets" in text
    assert f"Wrote 2 tickets to {target}" in text
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["ticket"], r["first_response"], r["resolution"]) for r in rows] == [
        ("SLA-1", "met", "met"), ("SLA-2", "breached", "breached"),
    ]


def test_days_window_ends_now(db_url, november):
    code, text = _report(db_url, "--days", "7")
    assert code == 0
    assert "last 7 days" in text
    assert "No SLA targets met or breached in this period." in text


def test_bad_month_is_one_clear_line_and_exit_code_2(db_url, november, capsys):
    assert main(["report", "--database-url", db_url, "--month", "2026-13"]) == 2
    assert capsys.readouterr().err.strip() == (
        "slabot report: month must be 01 to 12, got '2026-13'"
    )


def test_unknown_channel_name_or_id_is_refused_naming_the_tracked_ones(
        db_url, november, capsys, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with unit_of_work(november) as s:
        track_channel(session=s, workspace_id=get_or_create_workspace(
            session=s, team_id=TEAM).id, channel_id="C1", name="support")
    for wanted in ("#nowhere", "C0NOPE"):
        code, _ = _report(db_url, "--channel", wanted)
        assert code == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert f"no channel '{wanted}' with tickets" in line and "#support (C1)" in line


def test_a_channel_is_found_by_its_name_now_or_when_tracked_or_by_id(
        db_url, november, monkeypatch):
    with unit_of_work(november) as s:
        track_channel(session=s, workspace_id=get_or_create_workspace(
            session=s, team_id=TEAM).id, channel_id="C1", name="support")
    with running_fake_slack(token="xoxb-cli") as fake:
        fake.add_channel("C1", name="help-desk")  # renamed in Slack since it was tracked
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        for wanted in ("#help-desk", "#Support", "C1"):
            code, text = _report(db_url, "--month", "2026-11", "--channel", wanted)
            assert code == 0 and "2 tickets" in text
    code, text = _report(db_url, "--month", "2026-11", "--channel", "C2")  # untracked, tickets
    assert code == 0 and "1 ticket" in text


@pytest.mark.slow  # a real `slabot` process
def test_slabot_report_runs_from_the_shell(db_url, november):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--database-url", db_url,
         "--month", "2026-11"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "November 2026" in result.stdout and "66.7%" in result.stdout


def test_database_without_tables_says_to_migrate_instead_of_a_traceback(empty_db_url, capsys):
    assert main(["report", "--database-url", empty_db_url, "--days", "7"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "slabot report: the database has no tables yet: run `slabot migrate` first"
    )


def test_bad_month_is_named_before_the_state_of_the_database(empty_db_url, capsys):
    assert main(["report", "--database-url", empty_db_url, "--month", "2026-13"]) == 2
    assert capsys.readouterr().err.strip() == (
        "slabot report: month must be 01 to 12, got '2026-13'"
    )


def test_database_that_cannot_be_opened_is_one_line_not_a_traceback(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/no/such/dir/slabot.db"
    assert main(["report", "--database-url", url, "--days", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("slabot report: cannot open the database: ")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_far_off_month_is_one_line_with_the_years_allowed(empty_db_url, capsys, month):
    assert main(["report", "--database-url", empty_db_url, "--month", month]) == 2
    assert capsys.readouterr().err.strip() == (
        f"slabot report: the month must be in the years 1970 to 9998, got '{month}'"
    )


@pytest.mark.parametrize("days", ["99999999", "0", "abc", "-3"])
def test_bad_days_name_the_range_and_the_other_flag(empty_db_url, capsys, days):
    assert main(["report", "--database-url", empty_db_url, f"--days={days}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("slabot report: --days must be a number of days from 1 to 366 "
                          "(or use --month YYYY-MM)")
    assert len(err.splitlines()) == 1


def test_days_are_read_like_the_slash_command(db_url, november):
    for days in ("14", "14d", "366"):
        code, text = _report(db_url, "--days", days)
        assert code == 0 and f"last {days.rstrip('d')} days" in text
