"""The domain stays pure: ``sla/`` imports the standard library, itself and the few
third-party modules listed here (each only where it is allowed), and never reads the clock."""

import ast
import sys
from pathlib import Path

import pytest

SLA_DIR = Path(__file__).resolve().parents[2] / "sla"
# The only third-party modules sla/ may import, and the modules allowed to import each.
ALLOWED_THIRD_PARTY = {"holidays": {"public_holidays.py"}}
# Reading the wall clock: the caller passes ``now`` in instead.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
}


def allowed(module: str, filename: str) -> bool:
    """Whether a module of ``sla/`` named ``filename`` may import ``module``."""
    top = module.split(".")[0]
    if top == "sla" or top in sys.stdlib_module_names:
        return True
    return filename in ALLOWED_THIRD_PARTY.get(top, set())


def impurities(source: str, filename: str = "any.py") -> list[str]:
    """Imports outside the allow-list and wall-clock references in ``source``."""
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
            continue  # relative imports stay inside sla/
        found += [m for m in modules if not allowed(m, filename)]
    return found


SLA_MODULES = sorted(SLA_DIR.rglob("*.py"))


def test_the_sla_package_has_its_modules():
    names = {path.stem for path in SLA_MODULES}
    assert {"calendar", "durations", "policy", "clock", "breach", "escalation",
            "compliance"} <= names


@pytest.mark.parametrize("path", SLA_MODULES, ids=lambda path: path.name)
def test_sla_module_imports_only_what_is_allowed_and_never_reads_the_clock(path):
    assert impurities(path.read_text(encoding="utf-8"), path.name) == []


def test_each_allowed_third_party_module_is_really_used_where_it_is_allowed():
    for module, filenames in ALLOWED_THIRD_PARTY.items():
        for filename in filenames:
            tree = ast.parse((SLA_DIR / filename).read_text(encoding="utf-8"))
            imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                        for alias in node.names}
            imported |= {node.module for node in ast.walk(tree)
                         if isinstance(node, ast.ImportFrom) and node.module}
            assert any(name.split(".")[0] == module for name in imported), (module, filename)


@pytest.mark.parametrize(
    ("source", "culprit"),
    [
        ("import slack_sdk", "slack_sdk"),
        ("from slack_bolt.app import App", "slack_bolt.app"),
        ("import sqlalchemy.orm as orm", "sqlalchemy.orm"),
        ("from sqlmodel import Session", "sqlmodel"),
        ("from storage.models import Ticket", "storage.models"),
        ("import commands.tickets", "commands.tickets"),
        ("from bot import app", "bot"),
        ("import numpy", "numpy"),
        ("import holidays", "holidays"),  # allowed in public_holidays.py only
        ("from datetime import datetime\nx = datetime.now()", "datetime.now"),
        ("import datetime\nx = datetime.datetime.utcnow()", "datetime.utcnow"),
        ("import time\nx = time.time()", "time.time"),
        ("from time import time", "from time import time"),
        ("from datetime import date\nx = date.today()", "date.today"),
    ],
)
def test_the_checker_catches_each_kind_of_impurity(source, culprit):
    assert culprit in impurities(source, "calendar.py")


@pytest.mark.parametrize(
    ("source", "filename"),
    [
        ("from datetime import UTC, datetime\ndef f(now: datetime): return now.astimezone(UTC)",
         "clock.py"),
        ("from zoneinfo import ZoneInfo\nimport bisect, re", "business_time.py"),
        ("from sla.calendar import BusinessCalendar\nfrom . import hours", "policy.py"),
        ("import holidays as holidays_lib", "public_holidays.py"),
    ],
)
def test_the_checker_lets_the_standard_library_sla_and_allowed_modules_through(
    source, filename
):
    assert impurities(source, filename) == []
