"""The inbox: every incoming update is written here before it is acknowledged or handled.

- ``record`` writes a batch of updates (keyed by the channel's own id) in one transaction and says
  which are new; a duplicate delivery is never handled a second time.
- ``finish`` marks an update handled *inside the transaction that handles it* (the engine's turn, a
  counsellor's action), with a conditional update: of two deliveries of one update handled at the
  same moment, exactly one commits; the other finds it done and does nothing.
- ``take_pending`` hands out updates that were written but never finished (a crash, a database
  outage) for replay, each to one process at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import Database
from bot.storage.models import InboxEntry, utcnow

RECEIVED, DONE, FAILED = "received", "done", "failed"
HANDLING = timedelta(seconds=10)  # another process does not replay an update being handled before this


class Inbox:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def record(self, channel: str, updates: list[tuple[str, dict[str, Any] | None]]) -> set[str]:
        """Write new updates; returns the external ids seen for the first time (to be handled now)."""
        if not updates:
            return set()
        ids = list(dict.fromkeys(external_id for external_id, _ in updates))
        now = self.clock()
        for attempt in range(3):
            try:
                async with self.db.write() as session:
                    known = set(
                        await session.scalars(
                            select(InboxEntry.external_id).where(
                                InboxEntry.channel == channel, InboxEntry.external_id.in_(ids)
                            )
                        )
                    )
                    fresh: set[str] = set()
                    for external_id, payload in updates:
                        if external_id in known or external_id in fresh:
                            continue
                        session.add(
                            InboxEntry(
                                channel=channel,
                                external_id=external_id,
                                payload=payload,
                                status=RECEIVED,
                                received_at=now,
                                taken_until=now + HANDLING,
                            )
                        )
                        fresh.add(external_id)
                return fresh
            except IntegrityError:  # written at the same moment by another delivery: look again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def finish(self, session: AsyncSession, channel: str, external_id: str) -> bool:
        """Inside the handling transaction: claim the update as handled. False if it already was.

        An update that was never recorded (e.g. a ``chat --jsonl`` line with an id) is recorded as
        handled now; a concurrent twin then fails on the unique key and finds it done on retry.
        """
        now = self.clock()
        result = await session.execute(
            update(InboxEntry)
            .where(
                InboxEntry.channel == channel,
                InboxEntry.external_id == external_id,
                InboxEntry.status == RECEIVED,
            )
            .values(status=DONE, payload=None, done_at=now, taken_until=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return True
        exists = await session.scalar(
            select(InboxEntry.id).where(InboxEntry.channel == channel, InboxEntry.external_id == external_id)
        )
        if exists is not None:
            return False
        session.add(
            InboxEntry(
                channel=channel,
                external_id=external_id,
                status=DONE,
                received_at=now,
                done_at=now,
                payload=None,
            )
        )
        await session.flush()
        return True

    async def finish_alone(self, channel: str, external_id: str, error: str | None = None) -> None:
        """Mark an update handled in a transaction of its own (one the engine never saw: a group's
        chatter, a service update), or failed for good (``error``: its payload is dropped)."""
        async with self.db.write() as session:
            await session.execute(
                update(InboxEntry)
                .where(InboxEntry.channel == channel, InboxEntry.external_id == external_id)
                .where(InboxEntry.status == RECEIVED)
                .values(
                    status=FAILED if error else DONE,
                    payload=None,
                    done_at=self.clock(),
                    taken_until=None,
                    error=error,
                )
            )

    async def take_pending(
        self, channel: str, limit: int = 100, exclude: set[str] | frozenset[str] = frozenset()
    ) -> list[tuple[str, dict[str, Any] | None]]:
        """Updates written but not handled, not being handled by anyone now: (external id, payload),
        oldest first, each taken for a while so another process does not replay it at once.

        ``exclude``: what this process is handling now. On SQLite there is no other process (one
        bot per file), so everything else left ``received`` is an orphan of a crashed run: taken at
        once. Handling is idempotent (``finish``), so a replay that races the original does nothing.
        """
        now = self.clock()
        async with self.db.write() as session:
            query = (
                select(InboxEntry)
                .where(InboxEntry.channel == channel, InboxEntry.status == RECEIVED)
                .order_by(InboxEntry.id)
                .limit(limit + len(exclude))
            )
            if not self.db.is_sqlite:
                query = query.where((InboxEntry.taken_until.is_(None)) | (InboxEntry.taken_until < now))
                query = query.with_for_update(skip_locked=True)
            rows = [r for r in await session.scalars(query) if r.external_id not in exclude][:limit]
            for row in rows:
                row.taken_until = now + HANDLING
                row.attempts += 1
            return [(row.external_id, row.payload) for row in rows]

    async def pending_count(self, channel: str | None = None) -> int:
        from sqlalchemy import func

        async with self.db.read() as session:
            query = select(func.count()).select_from(InboxEntry).where(InboxEntry.status == RECEIVED)
            if channel:
                query = query.where(InboxEntry.channel == channel)
            return int(await session.scalar(query) or 0)

    async def purge(self, older_than: timedelta) -> int:
        """Forget handled delivery ids older than ``older_than`` (duplicates come within minutes)."""
        cutoff = self.clock() - older_than
        async with self.db.write() as session:
            result = await session.execute(
                delete(InboxEntry).where(InboxEntry.status != RECEIVED, InboxEntry.received_at < cutoff)
            )
        return int(result.rowcount or 0)
