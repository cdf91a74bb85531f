# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Fixtures for the Messenger/Instagram tests: the local Graph API server, an App on a fresh database,
the real ``MessengerChannel`` on the bot's real HTTP server, and (``ms_tg``) the Telegram staff chat
with the local Bot API server beside it in the same App.

    from tests.graphapi.fixtures import ms, ms_tg  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.channels.messenger import MessengerChannel, MessengerOptions
from bot.http import HttpServer
from bot.jobs import CoreJobs, supervise
from bot.storage.models import InboxEntry
from bot.texts import Content
from tests.graphapi.channel import FAST, MESSENGER_SETTINGS, ms_settings, start_channel
from tests.graphapi.server import GraphAPIServer
from tests.telegram_fixtures import TG, tg_content, tg_session, tg_triager  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class MS:
    """One scenario: the Graph API server, the App, the running channel on the HTTP server."""

    graph: GraphAPIServer
    app: App
    channel: MessengerChannel
    http: HttpServer
    tg: TG | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}/webhooks/messenger"

    @property
    def content(self) -> Content:
        return self.app.content

    async def post(self, *events: dict[str, Any], channel: str = "messenger") -> None:
        """Meta delivers these events in one signed request; the bot must answer 200."""
        status, _ = await self.graph.deliver(self.url, self.graph.envelope(list(events), channel))
        assert status == 200, status

    async def say(self, user: str, text: str, channel: str = "messenger") -> None:
        await self.post(self.graph.text(user, text, channel), channel=channel)

    async def idle(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Every event handled and nothing left to send (on Messenger, Instagram and the staff side)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.channel.intake.drain(max(0.1, deadline - loop.time()))
            if self.tg is not None:
                await self.tg.server.wait_until_consumed(timeout=max(0.1, deadline - loop.time()))
                await self.tg.channel.pipeline.drain(max(0.1, deadline - loop.time()))
            pending = await self.pending()
            waiting = await self.app.inbox.pending_count()
            if pending == 0 and waiting == 0 and self.channel.intake.pending == 0:
                await asyncio.sleep(0.05)
                if await self.pending() == 0 and self.channel.intake.pending == 0:
                    return
            if loop.time() > deadline:
                raise AssertionError(f"not idle after {timeout}s: {pending} outbox, {waiting} inbox pending")
            await asyncio.sleep(0.05)

    async def pending(self) -> int:
        """Outbox items still to deliver: to people on Messenger and Instagram, and to the Telegram staff
        chat when it runs (without it, staff items wait for a console nobody runs here)."""
        channels = ["messenger", "instagram", *(["telegram"] if self.tg is not None else [])]
        return sum([await self.app.outbox.pending_count(channel) for channel in channels])

    async def inbox_rows(self) -> int:
        async with self.app.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(InboxEntry)) or 0)


async def ms_session(
    database_url: str, tmp_path: Path, content: Content, triager: Any, options: MessengerOptions = FAST
) -> AsyncIterator[MS]:
    graph = GraphAPIServer()
    await graph.start()
    app = await build_app(
        ms_settings(database_url, tmp_path, graph.base_url), content=content, triager=triager
    )
    jobs = CoreJobs(app, reminder_interval=0.2)
    jobs_task = asyncio.create_task(supervise("core-jobs", jobs.forever, app.health))
    channel, http = await start_channel(app, graph.base_url, options)
    env = MS(graph, app, channel, http)
    try:
        yield env
    finally:
        jobs_task.cancel()
        await asyncio.gather(jobs_task, return_exceptions=True)
        await jobs.stop()
        await env.channel.stop()
        await env.http.stop()
        await app.close()
        await graph.stop()
    graph.assert_no_violations()


@pytest_asyncio.fixture
async def ms(tmp_path: Path, tg_content: Content, tg_triager: Any) -> AsyncIterator[MS]:
    """Messenger and Instagram alone (counsellors on the console), on SQLite."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    async for env in ms_session(url, tmp_path, tg_content, tg_triager):
        yield env


@pytest_asyncio.fixture
async def ms_tg(tmp_path: Path, tg_content: Content, tg_triager: Any) -> AsyncIterator[MS]:
    """Messenger and Instagram with the Telegram staff chat (the local Bot API server), one App."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    graph = GraphAPIServer()
    await graph.start()
    settings = {**MESSENGER_SETTINGS, "messenger_api_url": graph.base_url}
    try:
        async for tg in tg_session(url, tmp_path, tg_content, tg_triager, settings=settings):
            channel, http = await start_channel(tg.app, graph.base_url)
            channel.peers = [tg.channel]
            env = MS(graph, tg.app, channel, http, tg)
            try:
                yield env
            finally:
                await channel.stop()
                await http.stop()
    finally:
        await graph.stop()
    graph.assert_no_violations()


# ---- the bot in its own process, to be killed for real ---------------------------------------------
async def spawn_bot(graph_url: str, database_url: str, data_dir: Path, triage: str) -> tuple[Any, int]:
    """Run the Messenger channel on its own HTTP server in a child process
    (``python -m tests.graphapi.bot_process``); returns the process and its HTTP port once it is up."""
    args = [graph_url, database_url, str(data_dir), triage]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.graphapi.bot_process", *args,
        stdout=asyncio.subprocess.PIPE, cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if not line.startswith(b"READY "):
        proc.kill()
        raise RuntimeError(f"the bot process did not start: {line!r}")
    return proc, int(line.split()[1])
