"""chat.* and reactions.add: messages the app posts, edits and reacts to;
and answers sent to response_urls."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack_api.records import BOT_ID, BOT_USER_ID, maybe_json
from bot.sandbox.slack_api.state import SlackState


class ChatMethods(SlackState):
    """The app's messages: posted, edited, deleted, reacted to, or answered by response_url."""

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "ts": ts,
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("blocks") is not None:
            message["blocks"] = maybe_json(params["blocks"])
        if params.get("metadata") is not None:
            message["metadata"] = maybe_json(params["metadata"])
        with self._lock:
            self.messages[(str(channel), ts)] = message
        self.changed("message", str(channel))
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(params.get("channel"))
        if refused:
            return refused
        key = (str(params.get("channel")), str(params.get("ts")))
        edited_ts = self.next_ts()
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("user") != BOT_USER_ID:
                return {"ok": False, "error": "cant_update_message"}
            message["text"] = params.get("text", message.get("text", ""))
            if params.get("blocks") is not None:
                message["blocks"] = maybe_json(params["blocks"])
            message["edited"] = {"user": BOT_USER_ID, "ts": edited_ts}
        self.changed("update", key[0])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"],
                "message": dict(message)}

    def _api_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(params.get("channel"))
        if refused:
            return refused
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("user") != BOT_USER_ID:
                return {"ok": False, "error": "cant_delete_message"}
            del self.messages[key]
        self.changed("delete", key[0])
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = params.get("channel"), params.get("user")
        refused = self._refusal(channel, post=True)
        if refused:
            return refused
        if not user:
            return {"ok": False, "error": "user_not_found"}
        known = self.channels.get(str(channel))
        if self.strict and known is not None and user not in known.members:
            return {"ok": False, "error": "user_not_in_channel"}
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        self.add_ephemeral(str(channel), str(user), params.get("text", ""),
                            maybe_json(params.get("blocks")), params.get("thread_ts"), ts)
        return {"ok": True, "message_ts": ts}

    def _api_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts", ""))
        refused = self._refusal(channel)
        if refused:
            return refused
        if self.strict and (str(channel), ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"{self.workspace_url}archives/{channel}/p{ts.replace('.', '')}",
        }

    def _api_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts, name = params.get("channel"), params.get("timestamp"), params.get("name")
        if not ts:
            return {"ok": False, "error": "no_item_specified"}
        if not name:
            return {"ok": False, "error": "invalid_name"}
        refused = self._refusal(channel)
        if refused:
            return refused
        error = self.add_reaction(str(channel), str(ts), BOT_USER_ID, str(name).strip(":"))
        if error == "message_not_found" and not self.strict:
            return {"ok": True}  # the tests' messages need not exist
        return {"ok": False, "error": error} if error else {"ok": True}

    def answer_response_url(self, name: str, params: dict[str, Any]) -> None:
        """Carry out an answer sent to a registered response_url, as Slack does: in_channel
        posts a message as the app, anything else is an ephemeral for the person who acted."""
        target = self.response_targets.get(name)
        if target is None:
            return
        text = params.get("text") or ""
        blocks = maybe_json(params.get("blocks"))
        channel, user, thread_ts = target["channel"], target["user"], target.get("thread_ts")
        if params.get("response_type") == "in_channel":
            ts = self.next_ts()
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": text,
                       "ts": ts}
            if blocks:
                message["blocks"] = blocks
            if thread_ts:
                message["thread_ts"] = thread_ts
            with self._lock:
                self.messages[(channel, ts)] = message
            self.changed("message", channel)
            return
        self.add_ephemeral(channel, user, text, blocks, thread_ts, self.next_ts())
