"""A stand-in for the Slack Web API on 127.0.0.1: records every call and answers like Slack.

One implementation serves two users: the tests (``tests/e2e`` point the real bot at it) and
``slabot demo`` (bot/sandbox/demo.py), whose sandbox page shows what the bot posted here.
What it answers follows Slack's method reference: argument names, ``ok``/``error`` bodies
(``channel_not_found``, ``not_in_channel``, ``no_text``, ``invalid_auth``, ...), ``ts`` values
as "seconds.micro" strings and cursor paging in ``response_metadata.next_cursor``.
``strict=True`` (the sandbox) also refuses unknown channels and channels the bot is not in,
as Slack does; the tests' default leaves channels unchecked so a test need not declare each.
``now=time.time`` makes ``ts`` values wall-clock instants (the sandbox) instead of a counter.

Start it with ``FakeSlack()`` (as a context manager or ``start()``/``stop()``); point the bot's
``SLACK_API_URL`` at ``fake.api_url`` (``http://127.0.0.1:<port>/api/``). Every call is recorded
as a ``Call(method, params, token)``; tests assert on ``fake.calls("chat.postMessage")`` or wait
for asynchronous work with ``fake.wait_for(...)``. Faults on demand: ``fake.fail("chat.update",
status=429, times=2, retry_after=1)`` or ``status=500``; ``fake.fail("chat.postMessage",
drop=True)`` carries the call out and then closes the connection without answering (the
caller cannot know it worked); ``fake.heal(method)`` ends a spell of faults early.

It also serves the two non-API URLs Slack hands out: ``response_url`` targets
(``fake.response_url(...)``, recorded as method ``"response_url"``) and the external file
upload URLs returned by ``files.getUploadURLExternal`` (recorded as ``"file_upload"``).

Sign in with Slack (OpenID Connect): ``fake.enable_openid(client_id, client_secret)`` and
``fake.sign_in_as(user_id, team_id=..., name=...)``; then ``GET /openid/connect/authorize``
(recorded as ``"openid.authorize"``) redirects straight back to the ``redirect_uri`` with a
code and the state, ``openid.connect.token`` (HTTP Basic client credentials) exchanges the
code once for an access token and an ID token carrying the nonce, and
``openid.connect.userInfo`` answers with the user id, team id and name.

Another process can read the record at ``GET /_calls?method=...`` (JSON), and the fake runs
on its own with ``python -m bot.sandbox.slack_api --port 0`` (the benchmark does this so the
fake does not share a GIL with the process it measures).

Whoever shows the workspace (the sandbox page) registers ``on_change(callback)``: it is called
with ``(kind, channel)`` after every call that changed what a person would see.
"""

from bot.sandbox.slack_api.fake import FakeSlack
from bot.sandbox.slack_api.records import BOT_ID, BOT_USER_ID, TEAM_ID, Call, FakeChannel, FakeUser

__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "Call", "FakeChannel", "FakeSlack", "FakeUser"]
