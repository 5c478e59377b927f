"""Build the Bolt app in one place: no import-time side effects, everything passed in."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot import errors, inbox, listeners
from bot.config import Settings
from bot.metrics import SchedulerMetrics
from bot.request_guard import quiet_framework_loggers
from commands.deps import Deps

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    deps: Deps,
    *,
    token_verification: bool = True,
    listener_executor: Executor | None = None,
    metrics: SchedulerMetrics | None = None,
) -> App:
    """The Bolt app wired to `deps`: middleware, every listener, the one error handler.

    `App(...)` calls auth.test once (so a wrong token fails here, not at the first event);
    tests point `deps.client` at the fake Slack so that call is answered locally. Requests
    that change tickets are stored in the inbox before their ack (bot/inbox.py).
    """
    quiet_framework_loggers()
    app = App(
        # Passed explicitly: Bolt would otherwise fall back to SLACK_* environment variables.
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        client=deps.client,
        token_verification_enabled=token_verification,
        listener_executor=listener_executor,
        logger=logging.getLogger("slack_bolt"),
    )
    app.use(inbox.store_before_ack(deps, metrics))
    errors.register(app)
    listeners.register(app)
    if token_verification:
        deps.notifier.learn_workspace_url()
    return app
