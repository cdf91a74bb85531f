"""Storage: the migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.outbox import Outbox
from bot.privacy import Pseudonymizer
from bot.storage.db import current_revision, make_engine, session_factory, upgrade
from bot.storage.models import Base
from tests.conftest import SECRET


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        assert await current_revision(engine) is not None

        def diff(sync_conn):
            ctx = MigrationContext.configure(sync_conn, opts={"compare_type": False})
            return compare_metadata(ctx, Base.metadata)

        async with engine.connect() as conn:
            problems = await conn.run_sync(diff)
        assert problems == []
        await upgrade(engine)  # running again is harmless
    finally:
        await engine.dispose()


async def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}")
    await upgrade(engine)
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_outbox_retry_lease_and_order(database_url: str) -> None:
    engine = make_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    pseudo = Pseudonymizer(SECRET)
    outbox = Outbox(sessions, pseudo)
    first = await outbox.enqueue_staff("tg", "reminder", None, {"n": 1})
    second = await outbox.enqueue_staff("tg", "reminder", None, {"n": 2})
    batch = await outbox.due("tg")
    assert [d.id for d in batch] == [first, second] and batch[0].attempts == 1
    assert await outbox.due("tg") == []  # leased: not handed out twice
    await outbox.sent(first)
    await outbox.retry(second, 0, "HTTP 500")
    again = await outbox.due("tg")
    assert [d.id for d in again] == [second] and again[0].attempts == 2
    await outbox.retry(second, 3600, "429 retry after 3600")
    assert await outbox.due("tg") == []
    assert await outbox.pending_count("tg") == 1
    assert 3500 < (await outbox.next_due_in("tg")) <= 3600
    await engine.dispose()
