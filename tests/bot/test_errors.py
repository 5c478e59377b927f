"""The one error handler's wording: helpful for people, an id for unexpected failures."""

from __future__ import annotations

from bot.errors import friendly_message
from commands.errors import NotFound, PermissionDenied, UsageError
from sla.durations import DurationError


def test_usage_error_shows_the_right_form():
    text, error_id = friendly_message(UsageError("unknown period '9y'", "/sla status [7d|30d|90d]"))
    assert "unknown period '9y'" in text
    assert "`/sla status [7d|30d|90d]`" in text
    assert error_id is None


def test_permission_and_not_found_are_polite_and_plain():
    assert "only admins" in friendly_message(PermissionDenied("only admins may do that"))[0]
    assert "no ticket SLA-9" in friendly_message(NotFound("no ticket SLA-9"))[0]


def test_domain_errors_pass_their_message_through():
    text, error_id = friendly_message(DurationError("bad duration '5x'"))
    assert "bad duration '5x'" in text and error_id is None


def test_unexpected_errors_get_an_id_and_no_details():
    text, error_id = friendly_message(KeyError("secret internal detail"))
    assert error_id is not None and error_id in text
    assert "secret internal detail" not in text
    assert "Traceback" not in text
