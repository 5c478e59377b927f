"""Build the Bolt app in one place: no import-time side effects, everything passed in."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse

from bot import errors, listeners
from commands.deps import Deps
from storage.repositories.jobs import record_event_id

log = logging.getLogger(__name__)


def create_app(
    settings: Any,
    deps: Deps,
    *,
    token_verification: bool = True,
    listener_executor: Executor | None = None,
) -> App:
    """The Bolt app wired to `deps`: middleware, every listener, the one error handler.

    `App(...)` calls auth.test once (so a wrong token fails here, not at the first event);
    tests point `deps.client` at the fake Slack so that call is answered locally.
    """
    app = App(
        # Passed explicitly: Bolt would otherwise fall back to SLACK_* environment variables.
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        client=deps.client,
        token_verification_enabled=token_verification,
        listener_executor=listener_executor,
        logger=logging.getLogger("slack_bolt"),
    )
    app.use(_prepare_request(deps))
    errors.register(app)
    listeners.register(app)
    import commands

    commands.register(app)
    return app


def _prepare_request(deps: Deps):
    """One middleware for every request (each costs Bolt a round of argument building):

    - put `deps` in the context (Bolt passes context keys to listeners by parameter name);
    - ack an Events API delivery we already handled without running listeners again. Slack
      redelivers an event (same event_id, X-Slack-Retry-Num > 0) when our ack was slow; Bolt
      does not dedupe, so the event id is recorded in storage the first time.
    """

    def prepare_request(context, body, next, logger):
        context["deps"] = deps
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if body.get("type") != "event_callback" or not event_id:
            next()
            return None
        if listeners.records_own_event_id(body.get("event") or {}):
            # A message that may become a ticket: its listener records the id in the same
            # unit of work as the ticket, so a redelivery is settled there (atomically, and
            # without a transaction on the ack path).
            next()
            return None
        with deps.unit_of_work() as session:
            first_time = record_event_id(session=session, event_id=event_id,
                                         at=deps.clock.now())
        if not first_time:
            logger.info("duplicate Slack event %s acknowledged without processing", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return prepare_request
