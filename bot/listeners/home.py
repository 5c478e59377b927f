"""The App Home tab: a read and a views.publish, no state (a plain Bolt listener)."""

from __future__ import annotations

from typing import Any

from bot.listeners.events import team_of
from bot.views.home import home_view
from commands.deps import Deps
from commands.home import home_tickets


def on_app_home_opened(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Publish the user's App Home: their open tickets, those at risk, the forecast."""
    if event.get("tab") not in (None, "home") or not isinstance(event.get("user"), str):
        return
    found = home_tickets(deps, team_id=team_of(body, event), user_id=event["user"])
    deps.notifier.publish_home(found.user_id, home_view(found))
