# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Kill -9 mid-traffic: the Messenger/Instagram channel runs in a real child process on its own HTTP
server; "Meta" (the local Graph API server and a pusher that redelivers every webhook request until it
gets a 200, as Meta does) keeps posting while the process is killed three times and started again.
Afterwards every event was handled exactly once and answered, each person's answers in order; a
message delivered in the instant before a kill and not yet recorded goes out once more at most."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.storage.models import InboxEntry, Message, OutboxItem, Person
from tests.graphapi import GraphAPIServer
from tests.graphapi.fixtures import ms_settings, spawn_bot
from tests.telegram_fixtures import tg_content, tg_pg_url, tg_triager  # noqa: F401

WORDS = ["Salam", "imtahandan qorxuram", "evdə dava var", "dostum yoxdur", "kömək edin", "sağ ol"]


class Meta:
    """Delivers webhook requests one after another to wherever the bot listens now; a request that
    fails (connection refused, a 500, a timeout) is sent again after a moment, like Meta's retries."""

    def __init__(self, graph: GraphAPIServer) -> None:
        self.graph = graph
        self.port = 0
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.retries = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            body = await self.queue.get()
            while True:
                try:
                    url = f"http://127.0.0.1:{self.port}/webhooks/messenger"
                    status, _ = await asyncio.wait_for(self.graph.deliver(url, body), 10)
                    if status == 200:
                        break
                except (OSError, TimeoutError, Exception):
                    pass
                self.retries += 1
                await asyncio.sleep(0.05)
            self.queue.task_done()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def collapse(texts: list[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        if not out or out[-1] != text:
            out.append(text)
    return out


async def soak(database_url: str, data_dir: Path, triage: str, content: Any, triager: Any) -> None:
    graph = GraphAPIServer()
    await graph.start()
    total = int(os.environ.get("SOAK_MESSAGES", "60"))
    users = [(f"60249138{n:08d}", "messenger" if n % 2 else "instagram") for n in range(max(4, total // 5))]
    kills = 3
    proc, port = await spawn_bot(graph.base_url, database_url, data_dir, triage)
    meta = Meta(graph)
    meta.port = port
    sent = 0

    def post(count: int) -> None:
        nonlocal sent
        for _ in range(count):
            user, channel = users[sent % len(users)]
            event = graph.text(user, WORDS[sent // len(users) % len(WORDS)], channel)
            meta.queue.put_nowait(graph.envelope([event], channel))
            sent += 1

    try:
        for _ in range(kills):
            post(total // (kills + 1))
            await asyncio.sleep(0.5)
            proc.kill()  # SIGKILL, mid-traffic
            await proc.wait()
            proc, meta.port = await spawn_bot(graph.base_url, database_url, data_dir, triage)
        post(total - sent)
        await asyncio.wait_for(meta.queue.join(), 120)
        app = await build_app(
            ms_settings(database_url, data_dir, graph.base_url), content=content, triager=triager
        )
        try:
            for _ in range(1200):  # the last process finishes (and replays what the killed ones left)
                async with app.sessions() as session:
                    waiting = await session.scalar(
                        select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "received")
                    )
                pending = await app.outbox.pending_count("messenger") + await app.outbox.pending_count(
                    "instagram"
                )
                if not waiting and not pending:
                    break
                await asyncio.sleep(0.1)
            async with app.sessions() as session:
                journal = list(await session.scalars(select(InboxEntry.status)))
                handled = await session.scalar(
                    select(func.count()).select_from(Message).where(Message.sender == "person")
                )
                address = {
                    p.id: app.pseudo.unseal(p.address_sealed) for p in await session.scalars(select(Person))
                }
                rows = list(
                    await session.scalars(
                        select(OutboxItem).where(OutboxItem.target == "person").order_by(OutboxItem.id)
                    )
                )
        finally:
            await app.close()
    finally:
        proc.kill()
        await proc.wait()
        await meta.stop()
        await graph.stop()
    assert len(journal) == total and set(journal) == {"done"}  # every event recorded, handled
    assert handled == total  # ... exactly once
    assert rows and all(r.status == "sent" for r in rows), [
        (r.status, r.last_error) for r in rows if r.status != "sent"
    ]
    by_person: dict[str, list[str]] = {}
    for row in rows:
        by_person.setdefault(str(address[row.person_id]), []).append(row.payload["text"])
    resent = 0
    for user, texts in by_person.items():
        got = graph.texts_to(user)
        assert len(texts) <= len(got) <= len(texts) + kills, (user, len(texts), len(got))
        assert collapse(got) == collapse(texts)  # in order; a repeat only right after itself
        resent += len(got) - len(texts)
    assert len(by_person) == len(users)
    graph.assert_no_violations()
    print(f"\n{total} events, {kills} kills, {meta.retries} webhook redeliveries, {resent} message(s) resent")


async def test_kill_minus_nine_mid_traffic_loses_nothing_on_sqlite(
    tmp_path: Path, tg_content: Any, tg_triager: Any, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    triage = str(request.getfixturevalue("triage_cache"))
    await soak(url, tmp_path, triage, tg_content, tg_triager)


@pytest.mark.postgres
async def test_kill_minus_nine_mid_traffic_loses_nothing_on_postgresql(
    tg_pg_url: str, tmp_path: Path, tg_content: Any, tg_triager: Any, request: pytest.FixtureRequest
) -> None:
    triage = str(request.getfixturevalue("triage_cache"))
    await soak(tg_pg_url, tmp_path, triage, tg_content, tg_triager)
