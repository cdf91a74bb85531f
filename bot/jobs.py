"""Long-running loops, kept alive, and the periodic jobs of the core.

- ``supervise`` runs a loop forever: any exception is logged (its type and place, never its message,
  which may quote a person) and the loop starts again after a backoff. Each loop reports a heartbeat
  to ``Health``; a loop that stopped beating makes ``/healthz`` answer 503, so a supervisor restarts
  the process.
- ``Leadership`` decides which process runs work that must run once (reminders, housekeeping, a
  channel's sender, long polling): on PostgreSQL the holder of a session advisory lock, taken over
  within seconds when its process dies (its connection closes); on SQLite the one process there is.
- ``CoreJobs`` are the periodic jobs every channel and the console rely on: reminders for unclaimed
  crisis cases, and housekeeping (handled delivery records, the triage labels' retention, and on
  PostgreSQL a VACUUM of the tables /forget deletes from).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.models import OutboxItem, TriageLabel, utcnow
from bot.storage.outbox import backoff

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """An exception for the log without its message (which may quote a person's words)."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(exc).__name__} at {where}" if where else type(exc).__name__


@dataclass
class LoopState:
    name: str
    stale_after: float  # seconds without a heartbeat before the loop counts as stuck
    last_beat: float = field(default_factory=time.monotonic)
    failures: int = 0
    stopped: bool = False


class Health:
    """What ``/healthz`` reports: every supervised loop beats; the database answers."""

    def __init__(self) -> None:
        self.loops: dict[str, LoopState] = {}

    def register(self, name: str, stale_after: float) -> LoopState:
        state = self.loops[name] = LoopState(name, stale_after)
        return state

    def beat(self, name: str) -> None:
        state = self.loops.get(name)
        if state is not None:
            state.last_beat = time.monotonic()

    def unregister(self, name: str) -> None:
        self.loops.pop(name, None)

    def problems(self) -> list[str]:
        now = time.monotonic()
        found = []
        for state in self.loops.values():
            if state.stopped:
                found.append(f"{state.name}: stopped")
            elif now - state.last_beat > state.stale_after:
                found.append(f"{state.name}: no heartbeat for {int(now - state.last_beat)} s")
        return found

    async def check(self, db: Database) -> list[str]:
        """Everything wrong now (the database first), for ``/healthz``: empty when all is well."""
        found = self.problems()
        try:
            async with asyncio.timeout(3):
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            found.insert(0, f"database: {type(exc).__name__}")
        return found


async def supervise(
    name: str,
    body: Callable[[], Awaitable[Any]],
    health: Health | None = None,
    *,
    base: float = 1.0,
    cap: float = 30.0,
    stale_after: float = 120.0,
) -> None:
    """Run ``body`` forever (it may return to be called again at once); survive any exception."""
    state = health.register(name, stale_after) if health is not None else LoopState(name, stale_after)
    try:
        while True:
            try:
                await body()
                state.failures = 0
                state.last_beat = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                state.failures += 1
                delay = backoff(state.failures, base, cap)
                log.error("%s failed (%s); again in %.1f s", name, describe(exc), delay)
                await asyncio.sleep(delay)
    finally:
        state.stopped = True


def start_supervised(
    name: str,
    body: Callable[[], Awaitable[Any]],
    health: Health | None = None,
    *,
    base: float = 1.0,
    cap: float = 30.0,
    stale_after: float = 120.0,
) -> asyncio.Task[None]:
    """``supervise(...)`` as a task named ``name``."""
    return asyncio.create_task(
        supervise(name, body, health, base=base, cap=cap, stale_after=stale_after), name=name
    )


class Loops:
    """A channel's background loops: each under ``supervise`` and on /healthz while it runs; ``stop``
    cancels them all and takes them off /healthz."""

    def __init__(self, health: Health, *, base: float = 1.0, cap: float = 30.0) -> None:
        self.health = health
        self.base = base
        self.cap = cap
        self.tasks: list[asyncio.Task[Any]] = []
        self._names: list[str] = []

    def spawn(self, name: str, body: Callable[[], Awaitable[Any]], stale_after: float) -> None:
        self.tasks.append(
            start_supervised(name, body, self.health, base=self.base, cap=self.cap, stale_after=stale_after)
        )
        self._names.append(name)

    def add(self, task: asyncio.Task[Any]) -> None:
        """A one-off task of the channel's (cancelled with the loops if still running)."""
        self.tasks.append(task)

    async def stop(self, patience: float = 10.0) -> None:
        """Cancel every loop and wait for it. A cancellation can be lost (Python 3.11's ``wait_for``
        may swallow one that comes as its own timeout fires), so it is repeated until the loop ends;
        after ``patience`` seconds what still runs is logged and left behind."""
        pending = {task for task in self.tasks if not task.done()}
        deadline = time.monotonic() + patience
        while pending and time.monotonic() < deadline:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        if pending:
            log.error("loops did not stop: %s", ", ".join(sorted(t.get_name() for t in pending)))
        for task in self.tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a loop that ended with an error was already logged
        for name in self._names:
            self.health.unregister(name)
        self.tasks.clear()
        self._names.clear()


async def every(
    seconds: float, job: Callable[[], Awaitable[Any]], beat: Callable[[], None] | None = None
) -> None:
    """Call ``job`` now and then every ``seconds`` (used inside ``supervise``)."""
    while True:
        await job()
        if beat is not None:
            beat()
        await asyncio.sleep(seconds)


class Leadership:
    """Is this process the one that runs ``name`` now? (PostgreSQL: a session advisory lock.)"""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = zlib.crc32(f"helpline:{name}".encode())
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self.db.is_sqlite or self._conn is not None

    async def acquire(self) -> bool:
        """Take the lock if free (or check it is still ours); False while another process has it."""
        if self.db.is_sqlite:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection died: the lock went with it
                await self._drop()
        conn = await self.db.engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        log.info("this process now runs %s", self.name)
        return True

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                await self._conn.commit()
            except Exception:
                pass
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                pass


class CoreJobs:
    """Reminders and housekeeping, run by one process at a time."""

    HOUSEKEEPING_EVERY = 3600.0
    KEEP_DELIVERY_RECORDS = timedelta(days=7)
    CONSOLE_ITEMS_EXPIRE = timedelta(days=2)  # staff items for a console nobody runs

    def __init__(self, app: App, reminder_interval: float = 10.0) -> None:
        self.app = app
        self.reminder_interval = reminder_interval
        self.leader = Leadership(app.db, "core-jobs")
        self._last_housekeeping = 0.0
        self.wake: Callable[[], None] | None = None  # tells a staff channel's sender to look now

    async def forever(self) -> None:
        """Run ``tick`` every ``reminder_interval`` (under ``supervise``)."""
        while True:
            await self.tick()
            self.app.health.beat("core-jobs")
            await asyncio.sleep(self.reminder_interval)

    async def tick(self) -> int:
        """One round: reminders (and housekeeping when due). Returns how many reminders were queued."""
        if not await self.leader.acquire():
            return 0
        settings = self.app.settings
        reminded = await self.app.desk.remind(
            settings.remind_imminent_seconds, settings.remind_urgent_seconds
        )
        if reminded:
            log.info("reminders queued for %d unclaimed case(s)", len(reminded))
            if self.wake is not None:
                self.wake()
        if time.monotonic() - self._last_housekeeping >= self.HOUSEKEEPING_EVERY:
            self._last_housekeeping = time.monotonic()
            await housekeeping(self.app)
        return len(reminded)

    async def stop(self) -> None:
        await self.leader.release()


async def housekeeping(app: App, keep: timedelta = CoreJobs.KEEP_DELIVERY_RECORDS) -> dict[str, int]:
    """Delete what is no longer needed; on PostgreSQL vacuum what /forget deletes from."""
    now = utcnow()
    removed = {
        "inbox": await app.inbox.purge(keep),
        "outbox": await app.outbox.purge(keep),
    }
    async with app.db.write() as session:
        labels = await session.execute(
            delete(TriageLabel).where(
                TriageLabel.created_at < now - timedelta(days=app.settings.triage_label_days)
            )
        )
        expired = await session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.channel == "console",
                OutboxItem.status == "pending",
                OutboxItem.created_at < now - CoreJobs.CONSOLE_ITEMS_EXPIRE,
            )
            .values(status="dead", last_error="no console read it", address_sealed=None)
        )
    removed["triage_labels"] = int(labels.rowcount or 0)
    removed["console_items"] = int(expired.rowcount or 0)
    if not app.db.is_sqlite:
        await vacuum(app.db)
    return removed


FORGET_TABLES = ("messages", "people", "outbox", "triage_labels", "conversations", "cases")


async def vacuum(db: Database) -> None:
    """PostgreSQL keeps deleted rows on disk until VACUUM: run it on the tables /forget touches."""
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in FORGET_TABLES:
            await conn.execute(text(f"VACUUM {table}"))
