"""The database: one place that knows how to connect, how a transaction starts, and the migrations.

``Database.write()`` is a transaction that may change things. On PostgreSQL rows that must not change
under it are taken with ``SELECT ... FOR UPDATE`` (``Database.locked``); on SQLite a write
transaction starts with ``BEGIN IMMEDIATE``, so it holds the database's write lock from its first
read and no other writer can change what it read (SQLite's default would begin only at the first
write, after the reads). ``Database.read()`` is a plain snapshot for reading.

SQLite is the embedded single-process default: the files are private to the owner (0700 / 0600),
deleted rows are overwritten (``secure_delete``), and one running bot holds a lock file so a second
one is refused. PostgreSQL is for production and several replicas: migrations run under an advisory
lock, so replicas started together migrate once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Select

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x48_454C_50  # "HELP": the advisory lock id replicas take around migrations
IMMEDIATE = "helpline_sqlite_immediate"


class AlreadyRunning(RuntimeError):
    """Another bot process already uses this SQLite database."""


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    return Path(path) if path and path != ":memory:" else None


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            if name.exists() and name.stat().st_mode & 0o077:
                name.chmod(0o600)


def private_dir(path: Path) -> None:
    """The bot's own data folder (DATA_DIR): created, or made, readable by the owner only."""
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)


def make_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    path = sqlite_path(database_url)
    if database_url.startswith("sqlite"):
        if path is not None:
            _private_file(path)
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun by the "begin" hook below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(IMMEDIATE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(database_url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """The engine and its two kinds of transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sessions = session_factory(engine)
        writer = engine.execution_options(**{IMMEDIATE: True}) if self.is_sqlite else engine
        self._writer = session_factory(writer)
        # SQLite has one writer at a time. Writers of this process queue here instead of in SQLite's
        # busy handler, which sleeps in growing steps (up to 100 ms) and wastes most of the time.
        self._sqlite_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def connect(cls, database_url: str, **kwargs: Any) -> Database:
        return cls(make_engine(database_url, **kwargs))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that changes things: committed at the end, rolled back on an error."""
        if not self.is_sqlite:
            async with self._writer() as session, session.begin():
                yield session
            return
        loop = asyncio.get_running_loop()
        turn = self._sqlite_turns.get(loop)
        if turn is None:
            turn = self._sqlite_turns[loop] = asyncio.Lock()
        async with turn, self._writer() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    def locked(self, query: Select[Any]) -> Select[Any]:
        """``query`` taking its rows for this transaction (SQLite: the whole write transaction is)."""
        return query if self.is_sqlite else query.with_for_update()

    async def dispose(self) -> None:
        await self.engine.dispose()


_TRANSIENT_DRIVER_ERRORS = frozenset(
    {
        "SerializationError",
        "DeadlockDetectedError",
        "LockNotAvailableError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "CrashShutdownError",
        "InterfaceError",
        "InternalClientError",
    }
)


def transient(exc: BaseException) -> bool:
    """A database error worth trying again: a lock, a lost connection, a serialization conflict, or
    the same new row written at the same moment by another transaction (it is found on the retry).
    Not: bad data or a bug (those would fail the same way again)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

    if isinstance(
        exc, OSError | ConnectionError | TimeoutError | OperationalError | InterfaceError | IntegrityError
    ):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        chain = [exc.orig, getattr(exc.orig, "__cause__", None)]
        return any(
            type(e).__name__ in _TRANSIENT_DRIVER_ERRORS
            or isinstance(e, OSError | ConnectionError | TimeoutError)
            for e in chain
            if e is not None
        )
    return False


async def retrying(work: Any, attempts: int = 5, base: float = 0.05) -> Any:
    """Run ``work()`` (one transaction); on a transient error wait a moment and run it again."""
    import asyncio
    import logging

    for attempt in range(attempts):
        try:
            return await work()
        except Exception as exc:
            if attempt == attempts - 1 or not transient(exc):
                raise
            logging.getLogger(__name__).warning("database busy or away (%s), retrying", type(exc).__name__)
            await asyncio.sleep(base * 2**attempt)
    raise AssertionError("unreachable")


class ProcessLock:
    """Held by a running bot on a SQLite database: a second one is refused (one clear line)."""

    def __init__(self, database_url: str) -> None:
        path = sqlite_path(database_url)
        self.path = path.with_name(path.name + ".lock") if path is not None else None
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise AlreadyRunning(
                f"another bot process is already running on {self.path.with_suffix('')}; SQLite is for one "
                "process: stop it, or use PostgreSQL (DATABASE_URL) to run several"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (on start and with ``python -m bot db upgrade``).

    On PostgreSQL the migration runs under an advisory lock in its own transaction: replicas started
    at the same moment wait for each other, and the later ones find the schema already current.
    """

    def _run(sync_conn: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    if engine.dialect.name == "sqlite":
        # Tables are rebuilt by copying (SQLite cannot drop a column in place); with foreign keys on,
        # dropping the old table would cascade. They are switched off outside the transaction
        # (SQLite ignores the pragma inside one), checked afterwards, and switched on again.
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.execute("PRAGMA foreign_keys=OFF")
            try:
                async with conn.begin():
                    await conn.run_sync(_run)
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first()
                    if broken is not None:
                        raise RuntimeError(f"migration left a broken foreign key: {tuple(broken)}")
            finally:
                await raw.execute("PRAGMA foreign_keys=ON")
        return
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
