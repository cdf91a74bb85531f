"""``python -m bot rasa-actions``, its settings, the sender in ``python -m bot run``, and a call the
database could not take at first (answered with where help is, replayed later)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import cli
from bot.app import App
from bot.config import ConfigError, load_settings
from bot.runner import configured_channels
from tests.conftest import ROOT, SECRET
from tests.rasa_fixtures import Conversation

URGENT = "yaşamaq istəmirəm"
needs_extra = pytest.mark.skipif(
    importlib.util.find_spec("rasa_sdk") is None and not os.environ.get("CI"),
    reason='the Rasa extra is not installed: pip install -e ".[rasa]"',
)


def test_without_the_extra_the_command_says_how_to_install_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "rasa_sdk", None)  # import rasa_sdk now fails
    assert cli.main(["rasa-actions", "--port", "5055"]) == 2
    err = capsys.readouterr().err
    assert err == 'rasa-actions: the Rasa extra is not installed: pip install -e ".[rasa]"\n'


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"RASA_TOKEN": "t"}, "RASA_URL"),
        ({"RASA_URL": "http://127.0.0.1:5005"}, "RASA_TOKEN"),
        ({"RASA_URL": "rasa:5005", "RASA_TOKEN": "t"}, "RASA_URL"),
        (
            {"RASA_URL": "http://r:5005", "RASA_TOKEN": "t", "RASA_OUTPUT_CHANNEL": "a b"},
            "RASA_OUTPUT_CHANNEL",
        ),
    ],
)
def test_rasa_settings_come_together(tmp_path: Path, env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=None)
    assert caught.value.setting == setting


def test_rasa_settings(tmp_path: Path) -> None:
    s = load_settings(
        {"DATA_DIR": str(tmp_path), "RASA_URL": "http://rasa:5005/", "RASA_TOKEN": "secret"}, env_file=None
    )
    assert (s.rasa_url, s.rasa_token, s.rasa_output_channel, s.rasa_enabled) == (
        "http://rasa:5005",
        "secret",
        "latest",
        True,
    )
    assert load_settings({"DATA_DIR": str(tmp_path)}, env_file=None).rasa_enabled is False


async def test_bot_run_delivers_to_rasa_when_rasa_url_is_set(sqlite_app: App) -> None:
    from dataclasses import replace

    from bot.channels.rasa.sender import RasaChannel

    assert configured_channels(sqlite_app) == []
    sqlite_app.settings = replace(sqlite_app.settings, rasa_url="http://127.0.0.1:9", rasa_token="t")
    [channel] = configured_channels(sqlite_app)
    assert isinstance(channel, RasaChannel) and channel.sender.url == "http://127.0.0.1:9"


@needs_extra
@pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk might not be compatible")
async def test_a_call_the_database_could_not_take_is_answered_and_replayed(sqlite_app: App) -> None:
    """The engine fails (the database is away): the person hears where help is at once; the call stays
    in the inbox, and its crisis answer waits in the outbox for Rasa's HTTP API once it is handled."""
    import aiohttp

    from bot.channels.rasa.server import ActionServer

    app = sqlite_app
    server = ActionServer(app, "127.0.0.1", 0)
    real = app.engine.handle
    failures = [ConnectionError("database away")]

    async def flaky(inbound):
        if failures:
            raise failures.pop()
        return await real(inbound)

    app.engine.handle = flaky  # type: ignore[method-assign]
    await server.start()
    try:
        body = Conversation("rasa-user-20").says(URGENT).call("action_helpline_triage")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{server.port}/webhook", json=body) as resp:
                assert resp.status == 200
                answer = await resp.json()
        assert [r["text"] for r in answer["responses"]] == [app.content.t("error.internal", "az")]
        assert answer["events"] == []
        assert await app.inbox.pending_count("rasa") == 1 and await app.desk.queue() == []

        assert await server.turns.replay() == 1
        [case] = await app.desk.queue()
        assert case.risk.value == "urgent" and case.priority == 3
        [waiting] = await app.outbox.due("rasa", target="person")
        assert waiting.address == "rasa-user-20"
        assert waiting.payload.text == app.content.t("crisis.suicide", "az", "unknown")  # type: ignore[union-attr]
        assert await app.inbox.pending_count("rasa") == 0
    finally:
        await server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


@needs_extra
def test_the_command_serves_the_actions_until_sigterm(tmp_path: Path, triager, triage_cache: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "cache").symlink_to(triage_cache)  # the session's trained model
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "RASA_", "DATABASE_URL"))},
        "DATA_DIR": str(data),
        "PSEUDONYM_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "rasa-actions", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    assert json.loads(resp.read()) == {"status": "ok"}
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                    assert resp.read() == b"ok\n"
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the action server did not start"
                time.sleep(0.2)
        status, result = _post(
            f"http://127.0.0.1:{port}/webhook",
            Conversation("rasa-user-21").says(URGENT).call("action_helpline_triage"),
        )
        assert status == 200
        assert {"event": "slot", "timestamp": None, "name": "helpline_risk", "value": "urgent"} in result[
            "events"
        ]
        assert "116111" in result["responses"][0]["text"]
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "yaşamaq" not in err and "rasa-user-21" not in err  # no words or ids in the logs

    # the case is in the bot's database, for the counsellors' console
    async def queued() -> list:
        from bot.app import build_app

        settings = load_settings({"DATA_DIR": str(data), "PSEUDONYM_SECRET": SECRET}, env_file=None)
        app = await build_app(settings, triager=triager)
        try:
            return await app.desk.queue()
        finally:
            await app.close()

    [case] = asyncio.run(queued())
    assert case.channel == "rasa" and case.risk.value == "urgent"
