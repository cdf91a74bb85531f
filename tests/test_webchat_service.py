# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""The web chat as operators run it: its settings, the files it serves, two processes on one
PostgreSQL (one serves the sockets, the other takes over when it stops, and nothing waiting is
lost), and ``python -m bot run`` with only WEBCHAT_ALLOWED_ORIGINS set, with the staff console
answering over the same database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import build_app
from bot.channels.webchat import WebchatChannel
from bot.channels.webchat.limits import ClientAddress
from bot.config import ConfigError, load_settings
from bot.domain import LANGUAGES
from bot.http import HttpServer
from bot.payloads import Human
from bot.texts import Content
from tests.conftest import ROOT, SECRET
from tests.webchat_fixtures import (  # noqa: F401  (fixtures)
    COUNSELLOR,
    FAST,
    SITE,
    Chat,
    Client,
    running_chat,
    sqlite_chat,
)

# ---- settings ------------------------------------------------------------------------------------


def test_allowed_origins_turn_the_web_chat_on(tmp_path: Path) -> None:
    off = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert not off.webchat_enabled
    on = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "WEBCHAT_ALLOWED_ORIGINS": "https://www.Example.org, http://localhost:8000/,https://www.example.org",
            "WEBCHAT_MESSAGES_PER_MINUTE": "5",
            "WEBCHAT_TRUSTED_PROXIES": "10.0.0.0/8, 172.18.0.2",
        },
        env_file=None,
    )
    assert on.webchat_enabled
    assert on.webchat_allowed_origins == ("https://www.example.org", "http://localhost:8000")
    assert on.webchat_messages_per_minute == 5 and on.webchat_max_chars == 2000
    assert on.webchat_trusted_proxies == ("10.0.0.0/8", "172.18.0.2/32")


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"WEBCHAT_ALLOWED_ORIGINS": "www.example.org"}, "WEBCHAT_ALLOWED_ORIGINS"),
        ({"WEBCHAT_ALLOWED_ORIGINS": "https://www.example.org/chat"}, "WEBCHAT_ALLOWED_ORIGINS"),
        ({"WEBCHAT_ALLOWED_ORIGINS": " , "}, "WEBCHAT_ALLOWED_ORIGINS"),
        ({"WEBCHAT_MAX_MESSAGE_CHARS": "500"}, "WEBCHAT_ALLOWED_ORIGINS"),  # a partial set
        ({"WEBCHAT_ALLOWED_ORIGINS": SITE, "WEBCHAT_MAX_MESSAGE_CHARS": "many"}, "WEBCHAT_MAX_MESSAGE_CHARS"),
        (
            {"WEBCHAT_ALLOWED_ORIGINS": SITE, "WEBCHAT_MESSAGES_PER_MINUTE": "0"},
            "WEBCHAT_MESSAGES_PER_MINUTE",
        ),
        ({"WEBCHAT_ALLOWED_ORIGINS": SITE, "WEBCHAT_SESSION_HOURS": "-1"}, "WEBCHAT_SESSION_HOURS"),
        ({"WEBCHAT_ALLOWED_ORIGINS": SITE, "WEBCHAT_TRUSTED_PROXIES": "proxy"}, "WEBCHAT_TRUSTED_PROXIES"),
    ],
)
def test_bad_web_chat_settings_are_named(tmp_path: Path, env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=None)
    assert error.value.setting == setting


def test_the_browser_address_behind_a_trusted_proxy() -> None:
    from aiohttp.test_utils import make_mocked_request

    address = ClientAddress(("127.0.0.0/8", "10.0.0.0/8"))

    def request(peer: str, forwarded: str | None) -> Any:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        req = make_mocked_request("GET", "/chat/ws", headers=headers)
        return req.clone(remote=peer)

    assert address(request("203.0.113.5", None)) == "203.0.113.5"
    # a browser cannot claim another address past a proxy that is not trusted
    assert address(request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"
    assert address(request("127.0.0.1", "198.51.100.7")) == "198.51.100.7"
    assert address(request("10.1.2.3", "1.2.3.4, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    assert address(request("127.0.0.1", None)) == "127.0.0.1"


# ---- the files -----------------------------------------------------------------------------------


async def test_the_page_and_the_widget_carry_the_words_from_content(sqlite_chat: Chat) -> None:
    chat, content = sqlite_chat, sqlite_chat.content
    http = chat.client_session
    async with http.get(f"{chat.base}/chat/", params={"lang": "ru"}) as page:
        assert page.status == 200 and page.content_type == "text/html"
        html = await page.text()
        csp = page.headers["Content-Security-Policy"]
    assert '<html lang="ru">' in html and content.t("webchat.ui.title", "ru") in html
    assert '<script src="widget.js" data-mode="page" data-lang="ru"></script>' in html
    assert "__" not in html
    assert "script-src 'self'" in csp and f"frame-ancestors 'self' {SITE}" in csp

    async with http.get(f"{chat.base}/chat", allow_redirects=False) as moved:
        assert moved.status == 301 and moved.headers["Location"] == "/chat/"

    async with http.get(f"{chat.base}/chat/widget.js") as script:
        assert script.status == 200 and script.content_type == "text/javascript"
        body = await script.text()
        etag = script.headers["ETag"]
    assert "/*@CONFIG@*/" not in body
    config = json.loads(re.search(r"const CONFIG = (\{.*?\});\n", body).group(1))
    assert config["languages"] == list(LANGUAGES) and config["defaultLanguage"] == "az"
    assert config["maxChars"] == chat.app.settings.webchat_max_chars
    for lang in LANGUAGES:
        words = config["strings"][lang]
        assert words["counsellor_joined"] == content.t("webchat.ui.counsellor_joined", lang)
        assert "112" in words["emergency"] and "116111" in words["emergency"]
        assert words["leave"] == content.t("webchat.ui.leave", lang)
    assert config["strings"]["az"]["counsellor_joined"] == "Məsləhətçi söhbətə qoşuldu"
    # the widget's own code carries no words for people: they all come from CONFIG
    code = body.replace(json.dumps(config, ensure_ascii=False), "")
    assert not re.search(r"[əğıöşüçƏĞİÖŞÜÇ\u0400-\u04FF]", code)

    async with http.get(f"{chat.base}/chat/widget.js", headers={"If-None-Match": etag}) as cached:
        assert cached.status == 304
    async with http.get(f"{chat.base}/chat/widget.css") as style:
        assert style.status == 200 and style.content_type == "text/css"
        assert ":focus-visible" in await style.text()
    async with http.get(f"{chat.base}/chat/ready") as ready:
        assert ready.status == 200


def test_the_static_files_are_package_data() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.channels.webchat"]
    static = ROOT / "bot" / "channels" / "webchat" / "static"
    shipped = {p.name for pattern in patterns for p in static.glob(pattern.split("/", 1)[1])}
    assert shipped == {"widget.js", "widget.css", "chat.html"}


# ---- two processes on one PostgreSQL -------------------------------------------------------------


@pytest.mark.postgres
async def test_one_process_serves_the_sockets_and_another_takes_over(
    pg_database: str, tmp_path: Path, content: Content, triager: Any
) -> None:
    from tests.conftest import _truncate_pg, run_in_thread

    run_in_thread(lambda: _truncate_pg(pg_database))
    async with running_chat(pg_database, tmp_path, content, triager) as first:
        second_app = await build_app(first.app.settings, content=content, triager=triager, migrate=False)
        second = WebchatChannel(second_app, options=FAST)
        http = HttpServer(second_app)
        second.attach(http)
        await http.start("127.0.0.1", 0)
        await second.start()
        session, base2 = first.client_session, f"http://127.0.0.1:{http.port}"
        try:
            async with session.get(f"{base2}/chat/ready") as ready:
                assert ready.status == 503
            ws = await session.ws_connect(f"{base2}/chat/ws", headers={"Origin": SITE})
            closing = await ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 1013  # try again: the browser reconnects (to the serving process)

            client = await first.connect()
            token = (await client.hello())["session"]
            await client.messages(1)
            await client.press(Human().encode(), "h1")
            await client.messages(1)
            await client.quiet()
            case = (await first.app.desk.queue())[0]
            await first.app.desk.claim(case.id, COUNSELLOR)
            await client.messages(1)
            await client.close()
            await asyncio.sleep(0.2)
            assert (await first.app.desk.reply(case.id, COUNSELLOR, "Buradayam")).ok
            await asyncio.sleep(0.3)
            assert await first.app.outbox.pending_count("webchat") == 1  # parked by the first process

            # the first process stops; the second takes over, and the parked message waits no more
            await first.channel.stop()
            for _ in range(50):
                if second.sender.leading:
                    break
                await asyncio.sleep(0.1)
            assert second.sender.leading
            async with session.get(f"{base2}/chat/ready") as ready:
                assert ready.status == 200
            back = Client(await session.ws_connect(f"{base2}/chat/ws", headers={"Origin": SITE}))
            assert (await back.hello(session=token))["new"] is False
            missed = await back.messages(1)
            assert missed[0]["kind"] == "relay" and "Buradayam" in missed[0]["text"]
            assert await back.quiet() == []
            await back.close()
        finally:
            await second.stop()
            await http.stop()
            await second_app.close()


# ---- python -m bot run ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_python_m_bot_run_serves_the_web_chat_and_the_console_answers(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # the model the test session trained, so the bot loads it instead of training again
    request.getfixturevalue("triager")
    (data / "cache").symlink_to(Path(request.getfixturevalue("triage_cache")), target_is_directory=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBCHAT_", "DATABASE_"))},
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(data),
        "PSEUDONYM_SECRET": SECRET,
        "WEBCHAT_ALLOWED_ORIGINS": SITE,
        "HTTP_LISTEN": f"127.0.0.1:{port}",
        "LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=str(tmp_path), stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    words = "Evdə məni döyürlər, qorxuram"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):  # a loaded machine starts it slowly
                try:
                    async with http.get(f"{base}/chat/ready") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("python -m bot run did not serve the web chat")
            async with http.get(f"{base}/chat/") as page:
                assert page.status == 200
            client = Client(await http.ws_connect(f"{base}/chat/ws", headers={"Origin": SITE}))
            assert (await client.hello())["new"] is True
            assert (await client.messages(1))[0]["kind"] == "bot"
            await client.say(words, "w1")
            crisis = await client.messages(1)
            assert "112" in crisis[0]["text"]
            await client.quiet()

            # a counsellor in the console, over the same database
            staff = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "staff",
                "--name",
                "Aynur",
                env=env,
                cwd=str(tmp_path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(
                staff.communicate(b"queue\nclaim 1\nreply 1 Salam, buradayam\n"), 60
            )
            assert staff.returncode == 0, out.decode()
            frames = await client.messages(2, timeout=15)
            assert frames[0]["status"] == "counsellor_joined"
            assert frames[1]["kind"] == "relay" and "Salam, buradayam" in frames[1]["text"]
            await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert "web chat started" in log
    assert words not in log and "buradayam" not in log  # no message text in the log
