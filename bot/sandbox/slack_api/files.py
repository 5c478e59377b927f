"""files.*: the external upload flow (URL, upload, complete) and files.list."""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.slack_api.records import BOT_ID, BOT_USER_ID, maybe_json, mimetype
from bot.sandbox.slack_api.state import SlackState


class FileMethods(SlackState):
    """files.*: the external upload flow (URL, upload, complete) and files.list."""

    def _api_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not params.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_counter):07d}"
        with self._lock:
            self.file_names[file_id] = str(params["filename"])
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _api_files_list(self, params: dict[str, Any]) -> dict[str, Any]:
        # Newest first, like Slack; `channel` and `ts_from` filter (paging left out).
        channel, since = params.get("channel"), float(params.get("ts_from") or 0)
        with self._lock:
            found = [dict(f) for f in self.shared_files
                     if (channel is None or channel in f["channels"]) and f["created"] >= since]
        found.reverse()
        return {"ok": True, "files": found[:int(params.get("count") or 100)],
                "paging": {"count": len(found), "total": len(found), "page": 1, "pages": 1}}

    def _api_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = maybe_json(params.get("files")) or []
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        missing = [f.get("id") for f in files if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        channel = params.get("channel_id") or params.get("channels")
        if channel:
            refused = self._refusal(channel, post=True)
            if refused:
                return refused
        with self._lock:
            for f in files:
                self.shared_files.append({
                    "id": f["id"], "name": self.file_names.get(f["id"]), "title": f.get("title"),
                    "channels": [channel], "created": int(time.time()),
                })
        shown = [{"id": f["id"], "title": f.get("title"),
                  "name": self.file_names.get(f["id"]) or f.get("title"),
                  "mimetype": mimetype(self.uploads[f["id"]]),
                  "size": len(self.uploads[f["id"]]),
                  "url_private": f"{self.base_url}files/{f['id']}"} for f in files]
        if channel:
            # Shared into the channel (or thread): Slack posts it as a message with the files.
            ts = self.next_ts()
            message: dict[str, Any] = {"type": "message", "subtype": "file_share",
                                       "user": BOT_USER_ID, "bot_id": BOT_ID,
                                       "text": params.get("initial_comment") or "",
                                       "ts": ts, "files": shown}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            with self._lock:
                self.messages[(str(channel), ts)] = message
            self.changed("message", str(channel))
        return {"ok": True, "files": shown}
