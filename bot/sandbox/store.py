"""What the sandbox shows, kept in a JSON file beside the demo database across restarts."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
from pathlib import Path
from typing import Any

from bot.sandbox.slack_api import FakeSlack

log = logging.getLogger(__name__)


class SandboxStore:
    """Keeps what the sandbox shows (messages, Home tabs, files, DMs) in a JSON file beside
    the demo database, so a restart shows the same workspace the database remembers."""

    _SAVE_EVERY = 1.0

    def __init__(self, sandbox: FakeSlack, path: Path) -> None:
        self.sandbox = sandbox
        self.path = path
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._saver, name="sandbox-store", daemon=True)

    def load(self) -> None:
        """Read the saved workspace (if any) and start saving changes."""
        if self.path.exists():
            try:
                saved = json.loads(self.path.read_text("utf-8"))
                self._restore(saved)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring an unreadable %s (%s)", self.path.name, exc)
        self.sandbox.on_change(lambda kind, channel: self._dirty.set())
        self._thread.start()

    def _restore(self, saved: dict[str, Any]) -> None:
        sandbox = self.sandbox
        for message in saved.get("messages", []):
            channel = message.pop("_channel")
            sandbox.messages[(channel, message["ts"])] = message
        sandbox.views.update(saved.get("views", {}))
        uploads = saved.get("uploads", {})
        sandbox.uploads.update({k: base64.b64decode(v) for k, v in uploads.items()})
        sandbox._file_counter = itertools.count(int(saved.get("next_file", 1)))

    def save(self) -> None:
        """Write the workspace now (atomically: a crash leaves the previous file)."""
        sandbox = self.sandbox
        with sandbox._lock:
            payload = {
                "messages": [{**m, "_channel": c} for (c, _ts), m in sandbox.messages.items()],
                "views": dict(sandbox.views),
                "uploads": {k: base64.b64encode(v).decode() for k, v in sandbox.uploads.items()},
                "next_file": len(sandbox.uploads) + 1,
            }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload), "utf-8")
        tmp.replace(self.path)

    def _saver(self) -> None:
        while not self._closed.is_set():
            if self._dirty.wait(timeout=0.5) and not self._closed.is_set():
                self._dirty.clear()
                try:
                    self.save()
                except OSError as exc:
                    log.warning("could not save the sandbox: %s", exc)
                self._closed.wait(self._SAVE_EVERY)

    def close(self) -> None:
        """Stop saving in the background and save one last time."""
        self._closed.set()
        self._thread.join(timeout=5)
        try:
            self.save()
        except OSError as exc:
            log.warning("could not save the sandbox: %s", exc)
