"""Fixtures for the Telegram channel tests: the local Bot API server (tests/botapi), an App on a fresh
database, and the real ``TelegramChannel`` talking to the server over HTTP with aiogram.

tests/conftest.py loads them for every module (``pytest_plugins``): ask for ``tg`` as an argument.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import App, build_app
from bot.channels.telegram import Pacing, TelegramChannel, TelegramOptions
from bot.config import Settings
from bot.http import HttpServer
from bot.jobs import CoreJobs, supervise
from bot.texts import Content, load_content
from tests.botapi import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, BotAPIServer, StoredMessage
from tests.conftest import create_pg_database, drop_pg_database

ROOT = Path(__file__).resolve().parents[1]
SECRET = "telegram-test-secret-0123456789"
COUNSELLORS = {501: "administrator", 502: "member", 503: "member"}

FAST = TelegramOptions(
    poll_timeout=1,
    outbox_poll=0.05,
    pacing=Pacing.unlimited(),
    backoff_base=0.05,
    backoff_cap=0.5,
    handle_backoff=0.01,
    reminder_interval=0.1,
    member_cache_seconds=30.0,
    request_timeout=5.0,
    set_commands=False,
    drain_timeout=2.0,
)


@pytest.fixture(scope="session")
def tg_triager(triager: Any) -> Any:
    """The real triager, trained once per test session (tests/conftest.py)."""
    return triager


@pytest.fixture(scope="session")
def tg_content() -> Content:
    return load_content(validate=False)


def tg_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "pseudonym_secret": SECRET,
        "telegram_bot_token": DEFAULT_TOKEN,
        "telegram_staff_chat_id": DEFAULT_STAFF_CHAT_ID,
        "remind_imminent_seconds": 60,
        "remind_urgent_seconds": 300,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class TG:
    """One scenario: the server, the App and the running channel, with helpers."""

    server: BotAPIServer
    app: App
    channel: TelegramChannel
    options: TelegramOptions
    make_channel: Callable[[TelegramOptions], TelegramChannel]
    channels: list[TelegramChannel] = field(default_factory=list)

    @property
    def staff(self) -> int:
        return self.server.staff_chat_id

    async def idle(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait until every update is handled and the outbox is empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.server.wait_until_consumed(timeout=max(0.1, deadline - loop.time()))
            drained = await self.channel.pipeline.drain(max(0.1, deadline - loop.time()))
            pending = await self.app.outbox.pending_count()
            if drained and pending == 0 and not self.server.pending_updates:
                await asyncio.sleep(0.05)
                if await self.app.outbox.pending_count() == 0 and self.channel.pipeline.pending == 0:
                    return
            if loop.time() > deadline:
                raise AssertionError(f"not idle after {timeout}s: {pending} outbox item(s) pending")
            await asyncio.sleep(0.05)

    def to_user(self, user_id: int) -> list[StoredMessage]:
        return self.server.sent(chat_id=user_id)

    def texts_to(self, user_id: int) -> list[str]:
        return [m.data.get("text") or m.data.get("caption") or "" for m in self.server.sent(chat_id=user_id)]

    def staff_messages(self, thread_id: int | None = None) -> list[StoredMessage]:
        return self.server.sent(chat_id=self.staff, thread_id=thread_id)

    async def case_card(self, timeout: float = 20.0) -> StoredMessage:  # noqa: ASYNC109
        """The first case card the bot posted in the staff chat (waits for it)."""

        def find() -> StoredMessage | None:
            for message in self.server.sent(chat_id=self.staff):
                markup = message.data.get("reply_markup") or {}
                rows = markup.get("inline_keyboard") or []
                if any(b.get("callback_data", "").startswith("claim:") for row in rows for b in row) and (
                    "#" in (message.data.get("text") or "")[:12]
                ):
                    return message
            return None

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := find()) is None:
            if loop.time() > deadline:
                raise AssertionError(f"no case card in the staff chat; sent: {self.staff_messages()}")
            await asyncio.sleep(0.02)
        return found

    async def wait(self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            if result:
                return result
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


async def tg_session(
    database_url: str,
    tmp_path: Path,
    content: Content,
    triager: Any,
    *,
    options: TelegramOptions = FAST,
    settings: dict[str, Any] | None = None,
    server_kwargs: dict[str, Any] | None = None,
    start: bool = True,
) -> AsyncIterator[TG]:
    server_args: dict[str, Any] = {"staff_members": COUNSELLORS}
    server_args.update(server_kwargs or {})
    server = BotAPIServer(**server_args)
    await server.start()
    app = await build_app(
        tg_settings(database_url, tmp_path, **(settings or {})), content=content, triager=triager
    )

    def make(opts: TelegramOptions) -> TelegramChannel:
        # the server's TestSession closes without aiohttp's grace period for TLS
        return TelegramChannel(app, base_url=server.base_url, options=opts, bot=server.make_bot())

    channel = make(options)
    env = TG(server, app, channel, options, make, [channel])
    # The core jobs (reminders) as `python -m bot run` runs them beside the channel.
    jobs = CoreJobs(app, reminder_interval=options.reminder_interval)
    jobs.wake = lambda: [ch.wake() for ch in env.channels]
    jobs_task = asyncio.create_task(supervise("core-jobs", jobs.forever, app.health))
    http = HttpServer(app) if channel.webhook else None  # webhook mode: the route on the HTTP server
    try:
        if http is not None:
            channel.attach(http)
            await http.start(*app.settings.http_listen)
        if start:
            await channel.start()
        yield env
    finally:
        if http is not None:
            await http.stop()
        jobs_task.cancel()
        await asyncio.gather(jobs_task, return_exceptions=True)
        await jobs.stop()
        for ch in env.channels:
            try:
                await ch.stop()
            except Exception:  # already stopped or aborted
                pass
            await ch.bot.session.close()
        await app.close()
        await server.stop()
    server.assert_no_violations()


@pytest_asyncio.fixture
async def tg(
    tmp_path: Path, tg_content: Content, tg_triager: Any, request: pytest.FixtureRequest
) -> AsyncIterator[TG]:
    """A running channel on SQLite. Parametrise indirectly with a dict to change the server or
    settings: ``@pytest.mark.parametrize("tg", [{"server": {"staff_forum": False}}], indirect=True)``."""
    params: dict[str, Any] = getattr(request, "param", None) or {}
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    options = replace(FAST, **params.get("options", {}))
    async for env in tg_session(
        url,
        tmp_path,
        tg_content,
        tg_triager,
        options=options,
        settings=params.get("settings"),
        server_kwargs=params.get("server"),
        start=params.get("start", True),
    ):
        yield env


# ---- PostgreSQL ----------------------------------------------------------------------------------
@pytest_asyncio.fixture
async def tg_pg_url() -> AsyncIterator[str]:
    """A throwaway, migrated PostgreSQL database for one test (dropped afterwards)."""
    name, url = await create_pg_database("helpline_tg")
    try:
        yield url
    finally:
        await drop_pg_database(name)


# ---- things people do that the server has no helper for ------------------------------------------
def staff_sends_photo(
    server: BotAPIServer,
    user_id: int,
    thread_id: int | None = None,
    caption: str | None = None,
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """A counsellor posts a photo in the staff chat (in a topic, or as a reply)."""
    import copy

    user = server._staff(user_id)
    stored = server.register_file("photo")
    data = server._new_message(server.staff_chat_id, user.to_dict(), thread_id)
    data["photo"] = copy.deepcopy(stored.obj)
    if caption:
        data["caption"] = caption
    if reply_to_message_id is not None:
        target = server.message(server.staff_chat_id, reply_to_message_id)
        assert target is not None
        data["reply_to_message"] = server._as_reply(target)
    elif thread_id is not None:
        data["reply_to_message"] = server._topic_root(thread_id)
    server._store(server.staff_chat_id, data, from_bot=False)
    return server._enqueue({"message": copy.deepcopy(data)})


def chat_message(server: BotAPIServer, chat: dict[str, Any], user_id: int, text: str) -> dict[str, Any]:
    """A message in any chat (e.g. a group the bot was added to), as a raw update."""
    import time

    user = server.users.get(user_id) or server.add_user(user_id, f"User {user_id}")
    return server.enqueue_raw(
        {
            "message": {
                "message_id": 1,
                "from": user.to_dict(),
                "chat": chat,
                "date": int(time.time()),
                "text": text,
            }
        }
    )


def callback_from(
    server: BotAPIServer, user_id: int, chat_id: int, message_id: int, data: str
) -> dict[str, Any]:
    """A button press from anyone (even a non-member), without the server's membership check."""
    user = server.users.get(user_id) or server.add_user(user_id, f"User {user_id}")
    return server._press(user, chat_id, message_id, data, strict=False)


def lift_faults(server: BotAPIServer) -> None:
    """Telegram works again: injected failures and rate limits not yet used up are dropped."""
    for fault in server._faults:
        fault.remaining = 0
    for limit in server._rate_limits:
        limit.remaining = 0


# ---- a bot in its own process, to be killed for real ----------------------------------------------
async def spawn_bot(
    base_url: str, database_url: str, data_dir: Path, triage: str, lease: float = 60.0, hang: bool = False
) -> Any:
    """Run the Telegram channel in a child process (``python -m tests.telegram_fixtures``) and return
    the process once the channel is up. ``triage``: a triage cache directory. ``hang``: the
    process journals updates but never finishes handling them (to be killed mid-way)."""
    import sys

    args = [base_url, database_url, str(data_dir), triage, str(lease), "hang" if hang else "-"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.telegram_fixtures", *args,
        stdout=asyncio.subprocess.PIPE, cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if b"READY" not in line:
        proc.kill()
        raise RuntimeError(f"the bot process did not start: {line!r}")
    return proc


async def _serve(
    base_url: str, database_url: str, data_dir: str, triage: str, lease: float, hang: bool
) -> None:
    from datetime import timedelta

    import bot.storage.outbox

    bot.storage.outbox.LEASE = timedelta(seconds=lease)  # how long items taken by this process stay taken
    from bot.triage import load_triager

    triager = load_triager(Path(triage))
    settings = tg_settings(database_url, Path(data_dir))
    app = await build_app(settings, content=load_content(validate=False), triager=triager)
    channel = TelegramChannel(app, base_url=base_url, options=FAST)
    if hang:

        async def never(*_: Any) -> None:
            await asyncio.Event().wait()

        channel.handle = never  # type: ignore[method-assign]
    await channel.start()
    print("READY", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    import sys

    a = sys.argv[1:]
    asyncio.run(_serve(a[0], a[1], a[2], a[3], float(a[4]), a[5] == "hang"))
