"""Fixtures for the web chat tests: the real bot HTTP server with the web chat channel on 127.0.0.1,
an App on SQLite or PostgreSQL, and a small JSON WebSocket client (aiohttp's)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from bot.app import App, build_app
from bot.channels.webchat import WebchatChannel, WebchatOptions
from bot.domain import StaffMember
from bot.http import HttpServer
from bot.texts import Content
from tests.conftest import make_settings

SITE = "https://www.example.org"
COUNSELLOR = StaffMember("console:aynur", "Aynur")
FAST = WebchatOptions(
    outbox_poll=0.05,
    park_seconds=300.0,
    send_timeout=5.0,
    hello_timeout=5.0,
    replay_interval=0.2,
    leader_poll=0.2,
    retry_unavailable=1,
    retry_connections=1,
    backoff_base=0.05,
    backoff_cap=0.5,
)
LIMITS = {
    "webchat_max_chars": 500,
    "webchat_messages_per_minute": 8,
    "webchat_connections_per_address": 3,
}


class Client:
    """One browser tab's socket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:  # noqa: ASYNC109
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, (msg.type, msg.data, msg.extra)
        return json.loads(msg.data)

    async def hello(self, session: str | None = None, lang: str | None = "az") -> dict[str, Any]:
        await self.send(type="hello", session=session, lang=lang)
        frame = await self.next()
        assert frame["type"] == "session", frame
        return frame

    async def messages(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """The next ``count`` frames, all of them messages."""
        out = [await self.next(timeout) for _ in range(count)]
        assert all(f["type"] == "message" for f in out), out
        return out

    async def quiet(self, seconds: float = 0.6) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds`` (nothing, if all is well)."""
        frames = []
        while True:
            try:
                msg = await self.ws.receive(timeout=seconds)
            except TimeoutError:
                return frames
            if msg.type != aiohttp.WSMsgType.TEXT:
                return frames
            frames.append(json.loads(msg.data))

    async def say(self, text: str, message_id: str) -> dict[str, Any]:
        await self.send(type="text", text=text, id=message_id)
        ack = await self.next()
        assert ack == {"type": "ack", "id": message_id}, ack
        return ack

    async def press(self, data: str, message_id: str) -> dict[str, Any]:
        await self.send(type="button", data=data, id=message_id)
        ack = await self.next()
        assert ack == {"type": "ack", "id": message_id}, ack
        return ack

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Chat:
    app: App
    channel: WebchatChannel
    http: HttpServer
    client_session: aiohttp.ClientSession
    clients: list[Client] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http.port}"

    @property
    def content(self) -> Content:
        return self.app.content

    async def connect(self, origin: str | None = SITE, **kwargs: Any) -> Client:
        headers = {"Origin": origin} if origin else {}
        ws = await self.client_session.ws_connect(f"{self.base}/chat/ws", headers=headers, **kwargs)
        client = Client(ws)
        self.clients.append(client)
        return client

    async def idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until nothing for a connected person is due in the outbox."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            wait = await self.app.outbox.next_due_in("webchat")
            if wait is None or wait > 1.0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the web chat outbox did not drain")


async def start_chat(app: App, options: WebchatOptions = FAST) -> tuple[WebchatChannel, HttpServer]:
    channel = WebchatChannel(app, options=options)
    http = HttpServer(app)
    channel.attach(http)
    await http.start("127.0.0.1", 0)
    await channel.start()
    return channel, http


@asynccontextmanager
async def running_chat(
    database_url: str, data_dir: Path, content: Content, triager: Any, **overrides: Any
) -> AsyncIterator[Chat]:
    values = {"webchat_allowed_origins": (SITE,), **LIMITS, **overrides}
    settings = make_settings(database_url, data_dir, **values)
    app = await build_app(settings, content=content, triager=triager)
    channel, http = await start_chat(app)
    client_session = aiohttp.ClientSession()
    state = Chat(app, channel, http, client_session)
    try:
        yield state
    finally:
        # each step bounded: a stuck teardown names itself instead of hanging the run
        for client in state.clients:
            await asyncio.wait_for(client.close(), 15)
        await asyncio.wait_for(client_session.close(), 15)
        await asyncio.wait_for(channel.stop(), 30)
        await asyncio.wait_for(http.stop(), 30)
        await asyncio.wait_for(app.close(), 30)


@pytest_asyncio.fixture
async def chat(database_url: str, tmp_path: Path, content: Content, triager: Any) -> AsyncIterator[Chat]:
    """The web chat on SQLite and on PostgreSQL."""
    async with running_chat(database_url, tmp_path, content, triager) as state:
        yield state


@pytest_asyncio.fixture
async def sqlite_chat(tmp_path: Path, content: Content, triager: Any) -> AsyncIterator[Chat]:
    """The web chat on SQLite only (for what does not depend on the database)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    async with running_chat(url, tmp_path, content, triager) as state:
        yield state
