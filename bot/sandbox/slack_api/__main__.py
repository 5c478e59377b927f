"""`python -m bot.sandbox.slack_api --port 0`: the fake on its own, for another process."""

from __future__ import annotations

import argparse
import contextlib
import threading

from bot.sandbox.slack_api.fake import FakeSlack


def main() -> None:
    """Serve the fake until interrupted, printing its API URL on the first line."""
    parser = argparse.ArgumentParser(description="fake Slack Web API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=None, help="the only bot token accepted")
    args = parser.parse_args()
    fake = FakeSlack(token=args.token).start(args.port)
    print(fake.api_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    fake.stop()


if __name__ == "__main__":
    main()
