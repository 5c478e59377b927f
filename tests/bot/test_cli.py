"""`slabot` command line: clear configuration errors, migrations, manifest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect

from bot.cli import EXIT_CONFIG, main
from storage.db import make_engine
from tests.closing import running_fake_slack

ROOT = Path(__file__).resolve().parents[2]


def run_slabot(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.slow  # a real `slabot` process
def test_run_without_tokens_says_what_to_set_and_exits_2(tmp_path):
    result = run_slabot("run", cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert 'README section "Create the Slack app"' in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a real `slabot` process
def test_run_without_slack_settings_offers_the_demo_in_one_line(tmp_path):
    result = run_slabot("run", cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("slabot: cannot start: missing SLACK_BOT_TOKEN")
    assert line.endswith("slabot demo")


@pytest.mark.slow  # a real `slabot` process
def test_run_reads_tokens_from_dotenv_and_still_names_what_is_missing(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    result = run_slabot("run", cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert "missing SLACK_BOT_TOKEN" not in result.stderr


def test_migrate_creates_the_schema(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    engine = make_engine(url)
    try:
        assert {"tickets", "ticket_events", "nudges"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "migrated (empty) -> 0009" in capsys.readouterr().out


def test_migrate_says_when_there_was_nothing_to_do(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    capsys.readouterr()
    assert main(["migrate", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "already up to date (0009" in out
    assert "migrated" not in out


@pytest.mark.slow  # a real `slabot` process
def test_run_names_every_problem_once_without_repeating_the_prefix(tmp_path):
    result = run_slabot("run", cwd=tmp_path, env={
        "SLACK_BOT_TOKEN": "xoxp-user-token", "PORT": "99999"})
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.count("cannot start") == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("slabot: cannot start: ")
    for problem in ("SLACK_SIGNING_SECRET", "bot token starting with xoxb-", "PORT must be"):
        assert problem in result.stderr


def test_manifest_prints_yaml_for_the_given_url(capsys):
    assert main(["manifest", "--url", "https://bot.example.net"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    [command] = manifest["features"]["slash_commands"]
    assert command["url"] == "https://bot.example.net/slack/events"


@pytest.mark.parametrize("url", [None, "http://bot.example.net", "bot.example.net",
                                 "javascript:alert(1)", "https://"])
def test_manifest_needs_an_https_url_or_socket_mode(url, capsys):
    argv = ["manifest"] + ([] if url is None else ["--url", url])
    assert main(argv) == EXIT_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert "https" in line and "--socket-mode" in line
    assert main(["manifest", "--socket-mode"]) == 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # a real `slabot` process
def test_run_migrates_then_serves_slack_over_http(tmp_path):
    import json
    import time
    from contextlib import suppress
    from urllib.request import Request, urlopen

    from sqlmodel import select

    from bot.sandbox.slack_api import TEAM_ID
    from storage.db import unit_of_work
    from storage.models import Ticket
    from storage.repositories.workspaces import get_or_create_workspace, track_channel
    from tests.e2e.conftest import slack_signature
    from tests.waits import wait_until

    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = _free_port()
    with running_fake_slack(token="xoxb-sub") as fake:
        env = {
            "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-sub",
            "SLACK_SIGNING_SECRET": "sub-secret", "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": db_url, "PORT": str(port), "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
             "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            def health_once_up():
                assert process.poll() is None, process.stdout.read().decode()
                with suppress(OSError), urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=1) as response:
                    return json.loads(response.read())
                return None

            health = wait_until(health_once_up, "the bot to answer /healthz", timeout=30)
            assert health["database"] == "ok"
            assert health["scheduler"]["running"] is True  # nudges are being planned
            assert health["database_writes"] == "ok"
            assert health["inbox"]["pending"] == 0 and health["outbox"]["pending"] == 0
            assert health["ok"] is True
            with urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                exported = response.read()
            for gauge in (b"slabot_outbox_pending", b"slabot_inbox_pending",
                          b"slabot_inbox_oldest_seconds", b"slabot_outbox_writes_pending"):
                assert gauge in exported
            engine = make_engine(db_url)
            with unit_of_work(engine) as session:  # the schema exists: run migrated it
                workspace = get_or_create_workspace(session=session, team_id=TEAM_ID)
                track_channel(session=session, workspace_id=workspace.id, channel_id="C1")
            body = json.dumps({
                "type": "event_callback", "team_id": TEAM_ID, "event_id": "EvSUB1",
                "event": {"type": "message", "channel": "C1", "user": "U1",
                          "text": "help", "ts": f"{time.time():.6f}"},
            }).encode()
            stamp = str(int(time.time()))
            request = Request(f"http://127.0.0.1:{port}/slack/events", data=body, headers={
                "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": slack_signature("sub-secret", stamp, body)})
            with urlopen(request, timeout=5) as response:
                assert response.status == 200
            fake.wait_for("chat.postMessage", timeout=10)
            with unit_of_work(engine) as session:
                assert [t.key for t in session.exec(select(Ticket))] == ["SLA-1"]
            engine.dispose()
            # SIGTERM (a deploy): deliveries finish, the scheduler stops, the exit is clean.
            process.terminate()
            assert process.wait(timeout=30) == 0
            output = process.stdout.read().decode()
            assert "Traceback" not in output
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)


def _run_against_fake(tmp_path, fake_token: str, **env: str) -> subprocess.CompletedProcess:
    with running_fake_slack(token=fake_token) as fake:
        return run_slabot("run", cwd=tmp_path, env={
            "SLACK_BOT_TOKEN": "xoxb-given", "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": fake.api_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
            "PORT": str(_free_port()), **env,
        })


@pytest.mark.slow  # a real `slabot` process
def test_run_with_slack_unreachable_says_so_in_one_line_and_exits_2(tmp_path):
    result = run_slabot("run", cwd=tmp_path, env={
        "SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "PORT": str(_free_port()),
        "LOG_LEVEL": "WARNING"})
    assert result.returncode == EXIT_CONFIG
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("slabot: cannot reach Slack at http://127.0.0.1:")
    assert "network" in line


@pytest.mark.slow  # a real `slabot` process
def test_start_up_says_what_it_does_without_framework_noise(tmp_path):
    result = _run_against_fake(tmp_path, fake_token="xoxb-the-real-one", LOG_LEVEL="INFO")
    assert "token` will be unused" not in result.stderr
    assert "alembic.runtime.migration" not in result.stderr


@pytest.mark.slow  # a real `slabot` process
def test_run_with_a_token_slack_rejects_says_so_and_exits_2(tmp_path):
    result = _run_against_fake(tmp_path, fake_token="xoxb-the-real-one")
    assert result.returncode == EXIT_CONFIG
    assert "Slack did not accept SLACK_BOT_TOKEN" in result.stderr
    assert "invalid_auth" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a real `slabot` process
def test_socket_mode_with_a_rejected_app_token_says_so_and_exits_2(tmp_path):
    result = _run_against_fake(tmp_path, fake_token="xoxb-given", SLACK_APP_TOKEN="xapp-bad")
    assert result.returncode == EXIT_CONFIG
    assert "Slack did not accept SLACK_APP_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr


UNREACHABLE = "postgresql://slabot:s3cret-pw@127.0.0.1:1/slabot"


def _one_line_about_the_database(result: subprocess.CompletedProcess, *names: str) -> str:
    assert result.returncode == EXIT_CONFIG
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("slabot: cannot open the database ")
    for name in names:
        assert name in line
    return line


@pytest.mark.slow  # a real `slabot` process
def test_migrate_and_run_with_an_unreachable_database_say_so_in_one_line(tmp_path):
    migrate = run_slabot("migrate", "--database-url", UNREACHABLE, cwd=tmp_path)
    line = _one_line_about_the_database(migrate, "postgresql://slabot:***@127.0.0.1:1/slabot")
    assert "refused" in line.lower()

    run = run_slabot("run", cwd=tmp_path, env={
        "SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": UNREACHABLE,
        "LOG_LEVEL": "WARNING"})
    assert _one_line_about_the_database(run, "127.0.0.1:1") == line


@pytest.mark.slow  # a real `slabot` process
def test_migrate_with_a_bad_database_url_says_so_in_one_line(tmp_path):
    for url in ("not a url", "postgresql+nodriver://slabot:s3cret-pw@db/slabot",
                "mysql://slabot:s3cret-pw@db/slabot",
                f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"):
        result = run_slabot("migrate", "--database-url", url, cwd=tmp_path)
        _one_line_about_the_database(result)
