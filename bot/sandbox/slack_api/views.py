"""views.*: App Home tabs (kept per person) and modals."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack_api.records import maybe_json
from bot.sandbox.slack_api.state import SlackState


class ViewMethods(SlackState):
    """views.*: App Home tabs (kept per person) and modals."""

    def _api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = maybe_json(params.get("view"))
        user = str(params.get("user_id"))
        if not isinstance(view, dict) or not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if self.strict and user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        with self._lock:
            self.views[user] = view
        self.changed("home", None)
        return {"ok": True, "view": {"id": "V" + user, **(view or {})}}

    def _api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VMODAL", **(maybe_json(params.get("view")) or {})}}
