"""The domain stays pure: no Slack, no SQL and no wall clock anywhere in ``sla/``."""

import ast
from pathlib import Path

import pytest

SLA_DIR = Path(__file__).resolve().parents[2] / "sla"
FORBIDDEN_PACKAGES = {"slack_bolt", "slack_sdk", "sqlmodel", "sqlalchemy", "bot", "storage"}
# Reading the wall clock: the caller passes ``now`` in instead.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
}


def impurities(source: str) -> list[str]:
    """Forbidden imports and wall-clock references in ``source``, as readable strings."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            found += [
                f"from {node.module} import {alias.name}"
                for alias in node.names
                if (node.module.rsplit(".", 1)[-1], alias.name) in FORBIDDEN_CALLS
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if (owner, node.attr) in FORBIDDEN_CALLS:
                found.append(f"{owner}.{node.attr}")
            continue
        else:
            continue
        found += [m for m in modules if m.split(".")[0] in FORBIDDEN_PACKAGES]
    return found


SLA_MODULES = sorted(SLA_DIR.glob("*.py"))


def test_the_sla_package_has_its_modules():
    names = {path.stem for path in SLA_MODULES}
    assert {"calendar", "durations", "policy", "clock", "escalation", "compliance"} <= names


@pytest.mark.parametrize("path", SLA_MODULES, ids=lambda path: path.name)
def test_sla_module_imports_no_slack_no_sql_and_never_reads_the_clock(path):
    assert impurities(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "culprit"),
    [
        ("import slack_sdk", "slack_sdk"),
        ("from slack_bolt.app import App", "slack_bolt.app"),
        ("import sqlalchemy.orm as orm", "sqlalchemy.orm"),
        ("from sqlmodel import Session", "sqlmodel"),
        ("from datetime import datetime\nx = datetime.now()", "datetime.now"),
        ("import datetime\nx = datetime.datetime.utcnow()", "datetime.utcnow"),
        ("import time\nx = time.time()", "time.time"),
        ("from time import time", "from time import time"),
        ("from datetime import date\nx = date.today()", "date.today"),
    ],
)
def test_the_checker_catches_each_kind_of_impurity(source, culprit):
    assert culprit in impurities(source)


def test_the_checker_lets_passed_in_time_through():
    source = "from datetime import UTC, datetime\ndef f(now: datetime): return now.astimezone(UTC)"
    assert impurities(source) == []
