"""The faults a red-team audit found, each kept fixed by a test that failed on the code it found them
in: loops that die silently, a database outage, /forget racing the sender, data left behind by
/forget, duplicate staff deliveries, hostile input, secrets and settings, restricted staff members."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.types import Update
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.app import App, build_app
from bot.channels.terminal import run_jsonl
from bot.config import load_settings
from bot.domain import Inbound, StaffMember
from bot.http import HttpServer
from bot.storage.models import InboxEntry, Message, OutboxItem, Person
from tests.conftest import ROOT, SECRET, make_settings
from tests.dbproxy import DatabaseProxy
from tests.telegram_fixtures import TG, tg_session

TEEN = 42
SUICIDAL = "Özümü öldürmək istəyirəm, artıq qərar vermişəm, bu axşam"
AYNUR = StaffMember("console:aynur", "Aynur")


def buttons(message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row]


# ---- 1. every long-running loop survives, and a dead one makes the process unhealthy ----------------
async def test_an_html_error_page_from_telegram_does_not_make_the_bot_deaf(tg: TG, caplog) -> None:
    server = tg.server
    server.set_down(True, mode="html")  # a proxy's "502 Bad Gateway" page instead of JSON
    await asyncio.sleep(1.0)  # getUpdates fails a few times (aiogram: ClientDecodeError)
    server.set_down(False)
    server.user_sends_text(TEEN, "Salam")
    await server.wait_for_sent(chat_id=TEEN, timeout=20.0)
    assert any("polling failed" in r.getMessage() for r in caplog.records)
    assert tg.app.health.problems() == []


async def test_healthz_reports_a_loop_that_stopped_beating(sqlite_app: App) -> None:
    http = HttpServer(sqlite_app)
    await http.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{http.port}/healthz"
            async with client.get(url) as response:
                assert response.status == 200 and await response.text() == "ok\n"
            state = sqlite_app.health.register("telegram-sender", stale_after=0.05)
            await asyncio.sleep(0.1)
            async with client.get(url) as response:
                assert response.status == 503 and "telegram-sender: no heartbeat" in await response.text()
            state.stopped = True
            async with client.get(url) as response:
                assert "telegram-sender: stopped" in await response.text()
    finally:
        await http.stop()


# ---- 3. a database outage: retried while running, and the person hears where help is ----------------
async def test_a_database_outage_during_handling_is_retried_while_running(tg: TG) -> None:
    server, app = tg.server, tg.app
    real = app.engine.handle
    failures = {"left": 8}

    async def flaky(inbound: Inbound):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is away"))
        return await real(inbound)

    app.engine.handle = flaky  # type: ignore[method-assign]
    server.user_sends_text(TEEN, SUICIDAL)
    await server.wait_for_sent(chat_id=TEEN, timeout=20.0)
    # the answer without the database: where help is (116111, 112)
    assert tg.texts_to(TEEN)[0] == app.content.t("error.internal", "az")
    # the update stays in the inbox and is handled by the running bot, no restart
    card = await tg.case_card(timeout=30.0)
    await tg.idle()
    assert "#1" in card.text and "112" in tg.texts_to(TEEN)[-1]
    async with app.sessions() as session:
        assert set(await session.scalars(select(InboxEntry.status))) == {"done"}


@pytest.mark.postgres
async def test_postgresql_away_for_a_while_then_back(
    tg_pg_url: str, tmp_path: Path, tg_content: Any, tg_triager: Any
) -> None:
    """A real outage (the connection to PostgreSQL cut): /healthz turns 503, the person is told where
    help is, and once the database is back the message is handled and /healthz is 200 again."""
    proxy = DatabaseProxy()
    await proxy.start()
    try:
        async for env in tg_session(proxy.url(tg_pg_url), tmp_path, tg_content, tg_triager):
            http = HttpServer(env.app)
            await http.start("127.0.0.1", 0)
            health = f"http://127.0.0.1:{http.port}/healthz"
            try:
                async with aiohttp.ClientSession() as client:
                    async with client.get(health) as response:
                        assert response.status == 200
                    for _ in range(200):  # the poller holds its lock and polls (not still starting up)
                        if any(c.method == "getUpdates" for c in env.server.calls):
                            break
                        await asyncio.sleep(0.05)
                    proxy.cut()
                    env.server.user_sends_text(TEEN, SUICIDAL)
                    await env.server.wait_for_sent(chat_id=TEEN, timeout=20.0)
                    assert env.texts_to(TEEN)[0] == env.app.content.t("error.internal", "az")
                    async with client.get(health) as response:
                        assert response.status == 503 and "database" in await response.text()
                    proxy.restore()
                    card = await env.case_card(timeout=40.0)
                    assert "#1" in card.text
                    await env.idle(timeout=40.0)
                    assert "112" in env.texts_to(TEEN)[-1]
                    async with client.get(health) as response:
                        assert response.status == 200
            finally:
                await http.stop()
    finally:
        await proxy.stop()


# ---- 4. /forget while replies are queued ---------------------------------------------------------------
@pytest.mark.parametrize("tg", [{"server": {"enforce_limits": True}}], indirect=True)
async def test_forget_while_replies_are_queued_sends_nothing_twice(tg: TG) -> None:
    from bot.channels.telegram import Pacing, Window

    tg.channel.sender._pacing = Pacing(private=Window(1, 0.4))  # one message per 0.4 s per chat
    server = tg.server
    for words in ("Salam", "imtahandan qorxuram", "evdə dava var", "dərsə gedə bilmirəm"):
        server.user_sends_text(TEEN, words)
    server.user_sends_text(77, "Salam")
    await server.wait_until_consumed(timeout=20.0)
    server.user_sends_text(TEEN, "/forget")
    await tg.wait(lambda: any("forget:yes" in buttons(m) for m in tg.to_user(TEEN)), what="the question")
    ask = next(m for m in tg.to_user(TEEN) if "forget:yes" in buttons(m))
    server.user_presses(TEEN, ask.message_id, "forget:yes")
    await tg.idle(timeout=30.0)
    await asyncio.sleep(1.0)
    texts = tg.texts_to(TEEN)
    done = tg.app.content.t("forget.done", "az", "unknown")
    assert texts[-1] == done and texts.count(done) == 1
    assert len(texts) == len(set(m.message_id for m in tg.to_user(TEEN)))
    assert len(tg.texts_to(77)) == 1  # an unrelated person got exactly their answer
    async with tg.app.sessions() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
        )
    assert pending == 0


# ---- 5. /forget leaves nothing behind -------------------------------------------------------------------
async def test_forget_removes_the_persons_words_from_the_staff_chat_too(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    server.user_sends_text(TEEN, SUICIDAL)
    card = await tg.case_card()
    server.user_sends_text(TEEN, "evdə heç kim yoxdur, qorxuram")  # relayed while the case waits
    await tg.idle()
    relayed = tg.staff_messages(card.thread_id)[-1]
    assert "evdə heç kim yoxdur" in relayed.text
    server.user_sends_text(TEEN, "/forget")
    await tg.idle()
    ask = tg.to_user(TEEN)[-1]
    server.user_presses(TEEN, ask.message_id, "forget:yes")
    await tg.idle()
    assert server.message(tg.staff, relayed.message_id).deleted
    card_now = server.message(tg.staff, card.message_id)
    assert "qərar vermişəm" not in card_now.text and "heç kim yoxdur" not in card_now.text
    assert content.t("staff.person_left", "az") in card_now.text
    async with tg.app.sessions() as session:
        rows = list(await session.scalars(select(OutboxItem)))
        words = list(await session.scalars(select(Message.text).where(Message.sender == "person")))
    assert all(r.address_sealed is None for r in rows if r.status == "sent")  # the confirmation too
    assert not any("qorxuram" in json.dumps(r.payload, ensure_ascii=False) for r in rows)
    assert words == []


async def test_sqlite_overwrites_deleted_rows(sqlite_app: App) -> None:
    async with sqlite_app.db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA secure_delete"))).scalar() == 1


@pytest.mark.postgres
async def test_housekeeping_vacuums_what_forget_deleted_on_postgresql(tg_pg_url: str, tmp_path: Path) -> None:
    from bot.jobs import housekeeping

    app = await build_app(make_settings(tg_pg_url, tmp_path), triager=_NoTriage())
    try:
        removed = await housekeeping(app)
        assert set(removed) >= {"inbox", "outbox", "triage_labels"}
        async with app.db.engine.connect() as conn:
            vacuumed = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_user_tables "
                    "WHERE relname = 'messages' AND last_vacuum IS NOT NULL"
                )
            )
        assert vacuumed == 1
    finally:
        await app.close()


class _NoTriage:
    def analyze(self, text, prior=(), history=()):  # pragma: no cover - never called
        raise AssertionError("no triage here")


# ---- 6. nothing waits a whole lease after a crash: see test_telegram_resilience (lease 60 s) -----------


# ---- 7. a counsellor's message delivered twice at the same moment reaches the person once ----------------
async def test_a_staff_message_delivered_twice_at_once_is_sent_once(app: App) -> None:
    out = await app.engine.handle(Inbound(channel="test", user_id="p", text="insanla danışmaq istəyirəm"))
    case_id = out.events[0].case_id
    assert (await app.desk.claim(case_id, AYNUR)).ok
    results = await asyncio.gather(
        *(app.desk.reply(case_id, AYNUR, text="Salam, buradayam", update_id="tg-update-9") for _ in range(4))
    )
    assert sum(r.ok for r in results) == 1 and sum(r.duplicate for r in results) == 3
    async with app.sessions() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Message).where(Message.sender == "counsellor")
        )
    assert sent == 1


# ---- 8. hostile input never ends the run ------------------------------------------------------------------
HOSTILE = [
    '{"user": "u", "button": "fb:yes:١٢"}',  # Arabic-Indic digits
    '{"user": "u", "button": "fb:no:99999999999999999999999999"}',
    '{"user": "u", "media": 5}',
    '{"user": "u", "media": ["photo"]}',
    '{"user": "u", "text": "salam", "lang": 7}',
    '{"user": "u", "text": "salam", "lang": {"a": 1}}',
    "[" * 100_000 + "]" * 100_000,
    '{"user": "u", "media": "' + "x" * 5000 + '"}',
    '{"user": "u", "text": "salam", "id": "' + "i" * 5000 + '"}',
    '{"user": "u", "text": "salam", "id": "a\\u0000b"}',
    '{"user": "u", "text": "hi", "button": "human"}',
    '{"user": true, "text": "x"}',
    '{"user": "", "text": "x"}',
    '{"user": "u", "text": "a\\ud800b"}',
]


def fuzz_lines(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["user", "text", "button", "media", "lang", "id", "x"]
    values: list[Any] = [
        "",
        "u",
        0,
        -1,
        2**70,
        1.5,
        None,
        True,
        [],
        {},
        "fb:yes:1",
        "art:x:" + "9" * 30,
        "\x00",
        "😭" * 50,
        "Özümü öldürmək istəyirəm",
        "lang:zz",
        "safe:maybe",
        "a" * 300,
    ]
    lines = list(HOSTILE)
    while len(lines) < count:
        kind = rng.random()
        if kind < 0.15:
            noise = "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 40)))
            lines.append(noise.replace("\n", " "))  # one line each
        elif kind < 0.25:
            depth = rng.randrange(1, 3000)
            lines.append('{"user": "u", "text": ' + "[" * depth + "]" * depth + "}")
        else:
            obj = {rng.choice(pieces): rng.choice(values) for _ in range(rng.randrange(0, 5))}
            if rng.random() < 0.7:
                obj["user"] = rng.choice(["u1", "u2", 7])
            lines.append(json.dumps(obj, ensure_ascii=rng.random() < 0.5))
    return lines


async def test_chat_jsonl_survives_hostile_lines(app: App) -> None:
    count = int(os.environ.get("FUZZ_LINES", "300"))
    lines = fuzz_lines(count, seed=17)
    stdout = io.StringIO()
    assert await run_jsonl(app, io.StringIO("\n".join(lines) + "\n"), stdout) == 0
    out = [json.loads(x) for x in stdout.getvalue().splitlines()]
    errors = {o["line"]: o["error"] for o in out if "error" in o}
    assert all(1 <= n <= len(lines) for n in errors)
    assert {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13} <= set(errors)  # each bad field is named
    assert "not both" in errors[11] and "nested too deeply" in errors[7]
    assert 1 not in errors and 2 not in errors  # odd but well-formed buttons: "this button no longer works"
    assert not any("internal error" in e for e in errors.values())
    assert any("to" in o for o in out)  # and the good lines were answered


async def test_the_webhook_answers_400_to_what_is_not_an_update(
    tmp_path: Path, tg_content, tg_triager
) -> None:
    from tests.telegram_fixtures import tg_session as session_of

    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    settings = {
        "telegram_webhook_url": "http://127.0.0.1:1/hook",
        "telegram_webhook_secret": "s3cret",
        "http_listen": ("127.0.0.1", 0),
    }
    async for env in session_of(url, tmp_path, tg_content, tg_triager, settings=settings, start=False):
        http = HttpServer(env.app)
        env.channel.attach(http)
        await http.start("127.0.0.1", 0)
        try:
            rng = random.Random(3)
            statuses: list[int] = []
            count = int(os.environ.get("FUZZ_UPDATES", "200"))
            async with aiohttp.ClientSession() as client:
                bodies = [b"[" * 50_000 + b"]" * 50_000, b"{", b"null", b'"x"', b'{"update_id": "x"}']
                bodies += [
                    json.dumps(
                        {
                            "update_id": rng.randrange(-5, 10**12),
                            "message": rng.choice(
                                [
                                    None,
                                    1,
                                    "x",
                                    {},
                                    {"chat": {}},
                                    {"message_id": 1, "date": 0, "chat": {"id": 1}},
                                ]
                            ),
                        }
                    ).encode()
                    for _ in range(count)
                ]
                for body in bodies:
                    async with client.post(
                        f"http://127.0.0.1:{http.port}/hook",
                        data=body,
                        headers={
                            "X-Telegram-Bot-Api-Secret-Token": "s3cret",
                            "Content-Type": "application/json",
                        },
                    ) as response:
                        statuses.append(response.status)
            assert 500 not in statuses and statuses[:5] == [400] * 5
            assert set(statuses) <= {200, 400}
        finally:
            await http.stop()


# ---- 9. secrets and settings -------------------------------------------------------------------------------
def test_the_generated_secret_and_the_data_folder_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings({"DATA_DIR": str(data)}, env_file=None)
    secret = data / "pseudonym.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(settings.pseudonym_secret) >= 32

    async def start() -> None:
        app = await build_app(settings, triager=_NoTriage())
        await app.close()

    data.chmod(0o755)
    asyncio.run(start())
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "helpline.db").stat().st_mode) == 0o600


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL", "PSEUDONYM"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_short_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pseudonym.secret").write_text("abc\n")
    proc = _cli(["db", "current"], {"DATA_DIR": str(tmp_path)}, tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().startswith("configuration error: PSEUDONYM_SECRET:")
        and "\n" not in proc.stderr.strip()
    )


def test_a_database_url_without_a_scheme_is_not_echoed(tmp_path: Path) -> None:
    proc = _cli(
        ["db", "current"],
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "user:hunter2@db.example/helpline",
            "PSEUDONYM_SECRET": SECRET,
        },
        tmp_path,
    )
    assert proc.returncode == 2 and "hunter2" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("configuration error: DATABASE_URL:")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    proc = _cli(
        ["db", "upgrade"],
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://u:pw@127.0.0.1:9/x",
            "PSEUDONYM_SECRET": SECRET,
        },
        tmp_path,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "pw" not in proc.stderr
    assert proc.stderr.startswith("database error: DATABASE_URL:")


def test_a_second_bot_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    from bot.storage.db import ProcessLock

    lock = ProcessLock(f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}")
    lock.acquire()
    try:
        proc = _cli(["chat", "--jsonl"], {"DATA_DIR": str(tmp_path)}, tmp_path)
    finally:
        lock.release()
    assert proc.returncode == 2 and "already running" in proc.stderr and proc.stderr.count("\n") == 1


# ---- 10. restricted staff members; unknown update types -------------------------------------------
async def test_a_restricted_member_of_the_staff_chat_cannot_claim_or_close(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    server.user_sends_text(TEEN, SUICIDAL)
    card = await tg.case_card()
    server.set_member(503, "restricted")
    server.staff_presses(503, card.message_id, "claim:1")
    await tg.idle()
    assert server.callback_answers[-1].text == content.t("tg.staff.not_member", "az")
    assert (await tg.app.desk.case(1)).status == "queued"


async def test_an_unknown_update_type_is_logged_without_its_content(tg: TG, caplog, capsys) -> None:
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        raw = {"update_id": 5, "some_future_update": {"text": "gizli söz", "from": {"id": 987654321}}}
        assert await tg.channel.pipeline.accept(Update.model_validate(raw))  # as a webhook could bring it
        tg.server.user_sends_text(TEEN, "Salam")
        await tg.server.wait_for_sent(chat_id=TEEN, timeout=20.0)
        await tg.idle()
    printed = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for where in (printed.err, printed.out, logged, *(str(w.message) for w in caught)):
        assert "gizli söz" not in where and "987654321" not in where
    assert "a kind this bot does not know was ignored" in logged


# ---- kill -9, three times, while people write -------------------------------------------------------------
async def _soak(env: TG, database_url: str, tmp_path: Path, triage: str) -> None:
    from tests.telegram_fixtures import spawn_bot

    server = env.server
    total = int(os.environ.get("SOAK_MESSAGES", "90"))
    users = list(range(1000, 1000 + max(3, total // 5)))
    words = ["Salam", "imtahandan qorxuram", "evdə dava var", "dostum yoxdur", "kömək edin", SUICIDAL]
    sent = 0
    kills = 4  # three mid-traffic, and the last process too
    proc = await spawn_bot(server.base_url, database_url, tmp_path, triage)
    try:
        for _ in range(3):
            for _ in range(total // 4):
                user = users[sent % len(users)]
                server.user_sends_text(user, words[sent % len(words)])
                sent += 1
            await asyncio.sleep(0.4)
            proc.kill()  # SIGKILL, mid-traffic
            await proc.wait()
            proc = await spawn_bot(server.base_url, database_url, tmp_path, triage)
        while sent < total:
            server.user_sends_text(users[sent % len(users)], words[sent % len(words)])
            sent += 1
        await server.wait_until_consumed(timeout=60.0)
    finally:
        proc.kill()
        await proc.wait()
    await env.channel.start()
    for _ in range(600):  # the last run's unfinished updates are replayed (on PostgreSQL once the
        async with env.app.sessions() as session:  # short hold of the dead process has run out)
            waiting = await session.scalar(
                select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "received")
            )
        if not waiting:
            break
        await asyncio.sleep(0.1)
    await env.idle(timeout=60.0)
    async with env.app.sessions() as session:
        statuses = list(await session.scalars(select(InboxEntry.status)))
        rows = list(
            await session.scalars(
                select(OutboxItem).where(OutboxItem.target == "person").order_by(OutboxItem.id)
            )
        )
    assert len(statuses) == total and set(statuses) == {"done"}  # nothing lost
    assert rows and all(r.status == "sent" for r in rows)
    by_chat: dict[int | None, list[int]] = {}
    for row in rows:
        by_chat.setdefault(row.person_id, []).append(row.result["message_id"])
    for ids in by_chat.values():
        assert ids == sorted(ids)  # each chat in the order the engine wrote
    # A message delivered in the instant before a kill, not yet recorded as delivered, goes out once
    # more after the restart (Telegram has no idempotency key): at most once per kill in any chat,
    # never a whole conversation again.
    rows_per_chat: dict[int, int] = {}
    async with env.app.sessions() as session:
        for row in rows:
            rows_per_chat[row.person_id] = rows_per_chat.get(row.person_id, 0) + 1
        chat_of = {
            p.id: int(env.app.pseudo.unseal(p.address_sealed) or 0)
            for p in await session.scalars(select(Person))
        }
    for person_id, count in rows_per_chat.items():
        sends = len(server.sent(chat_id=chat_of[person_id]))
        assert count <= sends <= count + kills, (person_id, count, sends)


@pytest.mark.parametrize("tg", [{"start": False}], indirect=True)
async def test_kill_minus_nine_three_times_loses_nothing_on_sqlite(
    tg: TG, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    await _soak(
        tg, tg.app.settings.database_url, tmp_path / "child", str(request.getfixturevalue("triage_cache"))
    )


@pytest.mark.postgres
async def test_kill_minus_nine_three_times_loses_nothing_on_postgresql(
    tg_pg_url: str, tmp_path: Path, tg_content: Any, tg_triager: Any, request: pytest.FixtureRequest
) -> None:
    async for env in tg_session(tg_pg_url, tmp_path, tg_content, tg_triager, start=False):
        await _soak(env, tg_pg_url, tmp_path / "child", str(request.getfixturevalue("triage_cache")))
