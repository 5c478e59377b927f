"""The CSV export parses back with the csv module, one row per ticket."""

import csv
import io
from datetime import UTC, datetime, timedelta

from commands.report_csv import (
    CSV_COLUMNS,
    RESPONDER_COLUMNS,
    TicketCsvRow,
    responders_csv,
    tickets_csv,
)
from sla.responders import ResponderRow


def _row(key, **overrides):
    values = dict(
        ticket=key,
        channel="C0SUPPORT",
        priority="P2",
        status="resolved",
        created_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        first_response_at=datetime(2026, 11, 16, 9, 40, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 17, 10, 0, tzinfo=UTC),
        first_response_business=timedelta(minutes=40),
        first_response_target=timedelta(hours=1),
        first_response="met",
        resolution_business=timedelta(hours=9),
        resolution_target=timedelta(hours=8),
        resolution="breached",
        link="https://acme.slack.com/archives/C0SUPPORT/p1763283600000100",
    )
    values.update(overrides)
    return TicketCsvRow(**values)


def test_csv_has_a_header_and_one_row_per_ticket():
    rows = [_row("SLA-1"), _row("SLA-2"), _row("SLA-3")]
    parsed = list(csv.DictReader(io.StringIO(tickets_csv(rows))))
    assert [r["ticket"] for r in parsed] == ["SLA-1", "SLA-2", "SLA-3"]
    assert tuple(parsed[0]) == CSV_COLUMNS


def test_csv_values_are_iso_instants_and_whole_seconds():
    parsed = next(csv.DictReader(io.StringIO(tickets_csv([_row("SLA-7")]))))
    assert parsed["created_at"] == "2026-11-16T09:00:00Z"
    assert parsed["first_response_business_seconds"] == "2400"
    assert parsed["first_response_target_seconds"] == "3600"
    assert parsed["first_response"] == "met"
    assert parsed["resolution_business_seconds"] == "32400"
    assert parsed["resolution"] == "breached"
    assert parsed["link"].endswith("p1763283600000100")


def test_open_ticket_leaves_stop_instants_blank():
    open_row = _row("SLA-9", status="open", first_response_at=None, resolved_at=None,
                    first_response="running", resolution="running")
    parsed = next(csv.DictReader(io.StringIO(tickets_csv([open_row]))))
    assert parsed["first_response_at"] == ""
    assert parsed["resolved_at"] == ""
    assert parsed["resolution"] == "running"


def test_commas_and_quotes_in_values_survive_the_round_trip():
    tricky = _row('SLA-4', channel='C1,"ops"')
    parsed = next(csv.DictReader(io.StringIO(tickets_csv([tricky]))))
    assert parsed["channel"] == 'C1,"ops"'


def test_no_tickets_gives_just_the_header():
    assert tickets_csv([]).strip().split(",") == list(CSV_COLUMNS)


def test_responders_csv_is_the_table_with_names_that_a_spreadsheet_will_not_run():
    rows = [ResponderRow("UANN", first_responses=3, median_first_response=timedelta(
        minutes=20, seconds=5), resolutions=2, breaches_assigned=1),
            ResponderRow("UBO", resolutions=1)]
    names = {"UANN": "=HYPERLINK(\"http://evil\")", "UBO": "bo, the second"}
    found = list(csv.reader(io.StringIO(responders_csv(rows, names.__getitem__))))
    assert found == [
        list(RESPONDER_COLUMNS),
        ["'=HYPERLINK(\"http://evil\")", "UANN", "3", "1205", "2", "1"],
        ["bo, the second", "UBO", "0", "", "1", "0"],
    ]
