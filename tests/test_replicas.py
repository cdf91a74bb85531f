"""Two real bot processes on one PostgreSQL behind a local proxy, in webhook mode, against the local Bot
API server: they share the work without losing or doubling it, one of them dying mid-traffic.

Runs in CI (PostgreSQL is there); the replicas are `python -m bot run` (deploy/replicas.py)."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import Case, InboxEntry, Message, OutboxItem
from tests.botapi import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, BotAPIServer
from tests.conftest import PG_ADMIN_URL, ROOT, SECRET, _pg_admin, create_pg_database, drop_pg_database

sys.path.insert(0, str(ROOT / "deploy"))
from localproxy import LocalProxy
from replicas import WEBHOOK_PATH, free_port, start_replica

pytestmark = pytest.mark.postgres

USERS = int(os.environ.get("REPLICA_USERS", "200"))
PER_USER = int(os.environ.get("REPLICA_MESSAGES", "5"))
# Ordinary words (the triage keeps them below a crisis), so that the crises are the 5% below: this test
# is about sharing the work, not about the triage's precision.
WORDS = ["Salam", "imtahandan qorxuram", "valideynlərim tez-tez dalaşır", "dostum yoxdur", "nə etməliyəm?"]
CRISIS = "bu gecə özümü öldürəcəm, həbləri yığmışam"
COUNSELLORS = {501: "administrator", 502: "member"}


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _until(condition, timeout: float, what: str) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def test_two_replicas_share_the_work_and_survive_one_dying(
    tmp_path: Path, triage_cache: Path, triager: Any
) -> None:
    server = BotAPIServer(staff_members=COUNSELLORS, webhook_retry_delay=0.05)
    await server.start()
    name, url = await create_pg_database("helpline_replicas")
    ports = [free_port(), free_port()]
    proxy = LocalProxy([f"127.0.0.1:{p}" for p in ports])
    await proxy.start()
    env = {
        "DATABASE_URL": _plain(url),
        "PSEUDONYM_SECRET": SECRET,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(DEFAULT_STAFF_CHAT_ID),
        "TELEGRAM_API_URL": server.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{proxy.port}{WEBHOOK_PATH}",
        "TELEGRAM_WEBHOOK_SECRET": "replicas-s3cret",
        "TELEGRAM_PACING": "off",
        "REMIND_IMMINENT_SECONDS": "10",
        "REMIND_URGENT_SECONDS": "10",
        "LOG_LEVEL": "WARNING",
    }
    dirs = [tmp_path / f"replica-{i}" for i in range(2)]
    for data in dirs:  # the model the test session trained (``triager``): loaded, not trained again
        shutil.copytree(triage_cache, data / "cache")
    procs = list(await asyncio.gather(*(start_replica(env, p, d) for p, d in zip(ports, dirs, strict=True))))
    db = Database.connect(url)
    try:
        users = list(range(7000, 7000 + USERS))
        crisis_users = set(users[:: max(1, USERS // 20)])  # 5% of the people write a crisis message
        total = 0
        for round_ in range(PER_USER):
            for user in users:
                text = (
                    CRISIS if (user in crisis_users and round_ == 2) else WORDS[(user + round_) % len(WORDS)]
                )
                server.user_sends_text(user, text)
                total += 1
            if round_ == 2:  # one replica dies mid-traffic
                await asyncio.sleep(1.0)
                procs[0].kill()
                await procs[0].wait()

        async def counts() -> tuple[int, int, int]:
            async with db.read() as session:
                done = await session.scalar(
                    select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "done")
                )
                received = await session.scalar(
                    select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "received")
                )
                pending = await session.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
                )
            return int(done or 0), int(received or 0), int(pending or 0)

        async def finished() -> bool:
            done, received, pending = await counts()
            return done >= total and received == 0 and pending == 0 and not server.pending_updates

        await _until(finished, 240.0, "every update handled and every reply sent")

        async with db.read() as session:
            stored = await session.scalar(
                select(func.count()).select_from(Message).where(Message.sender == "person")
            )
            cases = list(await session.scalars(select(Case).where(Case.status != "bot")))
            rows = list(await session.scalars(select(OutboxItem).where(OutboxItem.target == "person")))
        assert stored == total  # every message handled exactly once
        assert rows and all(r.status == "sent" for r in rows)
        to_people = [m for m in server.sent() if m.chat_id > 0]
        # a send in flight at the kill may go out twice (Telegram has no idempotency key); nothing else
        assert len(rows) <= len(to_people) <= len(rows) + len(users)
        by_chat: dict[int, int] = {}
        for m in to_people:
            by_chat[m.chat_id] = by_chat.get(m.chat_id, 0) + 1
        assert set(by_chat) == set(users)  # everyone was answered
        # every crisis: one case, one card
        crisis_cases = [c for c in cases if c.risk in ("urgent", "imminent")]
        assert len(crisis_cases) == len(crisis_users)
        cards = [
            m
            for m in server.sent(chat_id=DEFAULT_STAFF_CHAT_ID)
            if (m.text or "").startswith("#")
            and "claim:" in "".join(m.callback_data)
            and m.method == "sendMessage"
            and "⏰" not in (m.text or "")
        ]
        card_cases = [int((m.text or "#0").split(" ")[0][1:]) for m in cards]
        assert sorted(card_cases) == sorted(c.id for c in crisis_cases)

        # reminders, by whichever replica runs the jobs, never doubled
        await asyncio.sleep(12.0)
        reminders: dict[int, list[float]] = {}
        for call in server.calls:
            words = str(call.params.get("text") or "")
            if call.ok and call.method == "sendMessage" and words.startswith("⏰"):
                case_id = int(words.split("#")[1].split(" ")[0])
                reminders.setdefault(case_id, []).append(call.at)
        assert reminders  # the surviving replica announces unclaimed crises again
        for times in reminders.values():  # every 10 s; a doubled one would come moments after another
            times.sort()  # (the times are of the sends: a busy sender can bring two a second closer)
            assert all(b - a >= 5.0 for a, b in itertools.pairwise(times)), times

        # /metrics of the surviving replica: Prometheus text, queue figures as in the database
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{ports[1]}/metrics") as response:
                assert response.status == 200
                body = await response.text()
            async with client.get(f"http://127.0.0.1:{ports[1]}/healthz") as response:
                assert response.status == 200
        families = {f.name: f for f in text_string_to_metric_families(body)}
        queued = {
            s.labels["risk"]: s.value for s in families["helpline_queue_cases"].samples if "risk" in s.labels
        }
        async with db.read() as session:
            by_risk = dict(
                (
                    await session.execute(
                        select(Case.risk, func.count()).where(Case.status == "queued").group_by(Case.risk)
                    )
                ).all()
            )
        assert {k: int(v) for k, v in queued.items() if v} == by_risk
        assert "helpline_messages" in families and "helpline_triage_seconds" in families
        assert families["helpline_outbox_pending"].samples[0].value == 0
        assert "Özümü" not in body and "7000" not in body  # counts only: no text, no ids
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await db.dispose()
        await proxy.stop()
        await server.stop()
        await drop_pg_database(name)


async def test_replicas_started_together_on_an_empty_database_migrate_once(tmp_path: Path) -> None:
    name = f"helpline_empty_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        env = {**os.environ, "DATABASE_URL": url, "PSEUDONYM_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
        command = (sys.executable, "-m", "bot", "db", "upgrade")
        pipe = asyncio.subprocess.PIPE
        procs = [
            await asyncio.create_subprocess_exec(
                *command, cwd=str(tmp_path), env=env, stdout=pipe, stderr=pipe
            )
            for _ in range(3)
        ]
        results = await asyncio.gather(*(p.communicate() for p in procs))
        assert [p.returncode for p in procs] == [0, 0, 0], [r[1].decode()[-500:] for r in results]
        assert all(b"schema revision: " in out for out, _ in results)
    finally:
        await drop_pg_database(name)
