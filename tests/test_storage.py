"""Storage: the migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import bot.channels.telegram.models  # noqa: F401  (the Telegram channel's tables are in the schema)
from bot.deliveries import Reminder, ToPerson, encode
from bot.privacy import Pseudonymizer
from bot.storage.db import Database, current_revision, make_engine, upgrade
from bot.storage.models import Base, OutboxItem, Person, utcnow
from bot.storage.outbox import Outbox
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
    db = Database.connect(database_url)
    await upgrade(db.engine)
    outbox = Outbox(db, Pseudonymizer(SECRET))
    first = await outbox.enqueue_staff("tg", Reminder(case=1, priority=3, risk="urgent"))
    second = await outbox.enqueue_staff("tg", Reminder(case=2, priority=3, risk="imminent"))
    batch = await outbox.due("tg")
    assert [d.id for d in batch] == [first, second] and batch[0].attempts == 1
    assert batch[1].payload == Reminder(case=2, priority=3, risk="imminent")  # typed, as written
    assert await outbox.due("tg") == []  # leased: not handed out twice
    await outbox.sent(first)
    await outbox.retry(second, 0, "HTTP 500")
    again = await outbox.due("tg")
    assert [d.id for d in again] == [second] and again[0].attempts == 2
    await outbox.retry(second, 3600, "429 retry after 3600")
    assert await outbox.due("tg") == []
    assert await outbox.pending_count("tg") == 1
    assert 3500 < (await outbox.next_due_in("tg")) <= 3600
    await db.dispose()


async def test_acknowledgements_tolerate_rows_that_are_gone(database_url: str) -> None:
    """/forget deletes a person's pending messages while the sender holds some: marking those sent
    must not fail, nor hold back the rest of the batch (it used to re-send the batch forever)."""
    db = Database.connect(database_url)
    await upgrade(db.engine)
    outbox = Outbox(db, Pseudonymizer(SECRET))
    ids = [await outbox.enqueue_person("tg", "42", ToPerson(text=f"m{i}")) for i in range(3)]
    taken = await outbox.due("tg")
    async with db.write() as session:
        await session.execute(OutboxItem.__table__.delete().where(OutboxItem.id == ids[1]))
    await outbox.sent_many([(d.id, {"message_id": 1}) for d in taken])
    async with db.read() as session:
        rows = {row.id: row for row in (await session.execute(OutboxItem.__table__.select())).all()}
    assert set(rows) == {ids[0], ids[2]}
    assert all(row.status == "sent" and row.address_sealed is None for row in rows.values())
    await db.dispose()


async def test_a_new_sender_takes_back_the_leases_of_a_dead_one(database_url: str) -> None:
    db = Database.connect(database_url)
    await upgrade(db.engine)
    outbox = Outbox(db, Pseudonymizer(SECRET))
    ids = [await outbox.enqueue_person("tg", "42", ToPerson(text=f"m{i}")) for i in range(3)]
    assert len(await outbox.due("tg")) == 3  # taken by a sender that then dies
    assert await outbox.due("tg") == []
    assert await outbox.reclaim("tg") == 3
    assert [d.id for d in await outbox.due("tg")] == ids  # in order, at once (no full lease wait)
    await db.dispose()


async def test_a_persons_message_never_overtakes_an_older_one_waiting_for_a_retry(database_url: str) -> None:
    """Whatever the sender, and across a restart: while an older message of a person waits for its
    retry, their newer ones are not handed out; other people's messages are."""
    db = Database.connect(database_url)
    await upgrade(db.engine)
    outbox = Outbox(db, Pseudonymizer(SECRET))
    async with db.write() as session:
        people = [Person(channel="tg", pseudonym=f"p{i}", anon_token=f"t{i}") for i in range(2)]
        session.add_all(people)
        await session.flush()
        kind, payload = encode(ToPerson(text="m"))
        rows = [
            OutboxItem(channel="tg", target="person", kind=kind, person_id=person.id, payload=payload)
            for person in (people[0], people[0], people[1], people[0])
        ]
        session.add_all(rows)
        await session.flush()
        ids = [row.id for row in rows]
    first = await outbox.due("tg", limit=1)
    assert [d.id for d in first] == ids[:1]
    await outbox.retry(ids[0], 3600, "HTTP 500")  # the first message of person 0 waits an hour
    assert [d.id for d in await outbox.due("tg")] == [ids[2]]  # person 1's goes; person 0's wait
    await outbox.defer([ids[2]], 0)
    async with db.write() as session:  # the hour has passed
        await session.execute(
            OutboxItem.__table__.update().where(OutboxItem.id == ids[0]).values(next_attempt_at=utcnow())
        )
    assert [d.id for d in await outbox.due("tg")] == ids  # all of them, each person's in order
    await db.dispose()
