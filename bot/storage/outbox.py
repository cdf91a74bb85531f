"""The durable outbox: everything the bot sends waits here until a channel adapter confirms delivery.

Items are written in the same transaction as the change that caused them. An adapter takes a batch
with :meth:`Outbox.due` (each item leased for a while, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so
no two senders take the same one), delivers it, and reports back: :meth:`sent_many`, :meth:`retry`
(after a delay: backoff, or a 429's ``retry_after``), :meth:`defer` (not tried: its chat is paused)
or :meth:`dead` (never deliverable: the person blocked the bot). A lease that is never reported back
(a crash) runs out, and a sender that takes over a channel first takes back every lease at once
(:meth:`reclaim`), so nothing waits a whole lease. Reports tolerate rows that are gone (``/forget``
deletes a person's pending messages): one missing row never blocks the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.deliveries import Payload, decode, encode
from bot.storage.db import Database
from bot.storage.models import OutboxItem, Person, utcnow

if TYPE_CHECKING:
    from bot.privacy import Pseudonymizer

LEASE = timedelta(seconds=60)  # an item taken but not reported back is handed out again after this
PENDING, SENT, DEAD = "pending", "sent", "dead"
_TABLE = OutboxItem.__table__


@dataclass(frozen=True)
class Delivery:
    """One outbox item as an adapter sees it: the address unsealed, the payload typed."""

    id: int
    channel: str
    target: str  # person | staff
    kind: str
    address: str | None  # the person's chat address (None for staff items)
    person_id: int | None
    case_id: int | None
    payload: Payload
    attempts: int


def to_person(
    person: Person, payload: Payload, now: datetime, case_id: int | None = None, keep_person: bool = True
) -> OutboxItem:
    """A message to a person, addressed by their sealed address. ``keep_person=False`` detaches it
    from the person's row (the /forget confirmation outlives the row)."""
    kind, data = encode(payload)
    return OutboxItem(
        channel=person.channel,
        target="person",
        kind=kind,
        person_id=person.id if keep_person else None,
        address_sealed=person.address_sealed,
        case_id=case_id,
        payload=data,
        created_at=now,
        next_attempt_at=now,
    )


def to_staff(
    channel: str, payload: Payload, now: datetime, case_id: int | None = None, **extra: Any
) -> OutboxItem:
    """Something for the staff side: a case event, a relayed message, a reminder, a notice."""
    kind, data = encode(payload)
    return OutboxItem(
        channel=channel,
        target="staff",
        kind=kind,
        case_id=case_id,
        payload=data,
        created_at=now,
        next_attempt_at=now,
        **extra,
    )


def backoff(attempts: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff in seconds: 1, 2, 4, ... capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


class Outbox:
    def __init__(self, db: Database, pseudo: Pseudonymizer, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.pseudo = pseudo
        self.clock = clock

    # ---- taking ------------------------------------------------------------------------------------
    async def due(self, channel: str, limit: int = 50, target: str | None = None) -> list[Delivery]:
        """Take up to ``limit`` items that are due, oldest first, and lease them.

        A person's message never overtakes an older one of theirs that waits for a retry (or was put
        back behind one): it stays here until that one is due too, also across a restart."""
        now = self.clock()
        older = aliased(OutboxItem)
        waits_behind = (
            select(older.id)
            .where(
                older.person_id == OutboxItem.person_id,
                older.channel == OutboxItem.channel,
                older.target == "person",
                older.status == PENDING,
                older.id < OutboxItem.id,
                older.next_attempt_at > now,
                (older.leased_until.is_(None)) | (older.leased_until < now),
            )
            .exists()
        )
        async with self.db.write() as session:
            query = (
                select(OutboxItem)
                .where(
                    OutboxItem.channel == channel,
                    OutboxItem.status == PENDING,
                    OutboxItem.next_attempt_at <= now,
                    (OutboxItem.leased_until.is_(None)) | (OutboxItem.leased_until < now),
                    ~((OutboxItem.target == "person") & waits_behind),
                )
                .order_by(OutboxItem.id)
                .limit(limit)
            )
            if target is not None:
                query = query.where(OutboxItem.target == target)
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            items = list(await session.scalars(query))
            deliveries: list[Delivery] = []
            for item in items:
                item.leased_until = now + LEASE
                item.attempts += 1
                try:
                    payload = decode(item.kind, item.payload)
                except (TypeError, ValueError) as exc:
                    item.status = DEAD
                    item.last_error = f"unreadable payload: {type(exc).__name__}"
                    continue
                deliveries.append(
                    Delivery(
                        id=item.id,
                        channel=item.channel,
                        target=item.target,
                        kind=item.kind,
                        address=self.pseudo.unseal(item.address_sealed) if item.address_sealed else None,
                        person_id=item.person_id,
                        case_id=item.case_id,
                        payload=payload,
                        attempts=item.attempts,
                    )
                )
            return deliveries

    async def reclaim(self, channel: str) -> int:
        """Take back every lease of ``channel`` (a sender starting or taking over after a crash)."""
        async with self.db.write() as session:
            result = await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.channel == channel,
                    OutboxItem.status == PENDING,
                    OutboxItem.leased_until.is_not(None),
                )
                .values(leased_until=None)
            )
        return int(result.rowcount or 0)

    # ---- adding outside an engine turn ---------------------------------------------------------------
    async def enqueue_staff(self, channel: str, payload: Payload, case_id: int | None = None) -> int:
        now = self.clock()
        async with self.db.write() as session:
            item = to_staff(channel, payload, now, case_id)
            session.add(item)
            await session.flush()
            return item.id

    async def enqueue_person(self, channel: str, address: str, payload: Payload) -> int:
        """A message to a chat address that no engine turn produced (e.g. "sorry, an error")."""
        now = self.clock()
        kind, data = encode(payload)
        async with self.db.write() as session:
            item = OutboxItem(
                channel=channel,
                target="person",
                kind=kind,
                address_sealed=self.pseudo.seal(address),
                payload=data,
                created_at=now,
                next_attempt_at=now,
            )
            session.add(item)
            await session.flush()
            return item.id

    # ---- reporting back ----------------------------------------------------------------------------
    async def sent(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        await self.sent_many([(item_id, result)])

    async def sent_many(self, results: list[tuple[int, dict[str, Any] | None]]) -> None:
        """Mark items delivered, in one transaction. The address is not needed any more and goes."""
        if not results:
            return
        now = self.clock()
        statement = (
            _TABLE.update()
            .where(_TABLE.c.id == bindparam("item_id"), _TABLE.c.status == PENDING)
            .values(
                status=SENT,
                sent_at=now,
                result=bindparam("item_result"),
                last_error=None,
                leased_until=None,
                address_sealed=None,
            )
        )
        async with self.db.write() as session:
            await session.execute(
                statement, [{"item_id": item_id, "item_result": result} for item_id, result in results]
            )

    async def retry(self, item_id: int, delay_seconds: float, error: str) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.status == PENDING)
                .values(
                    next_attempt_at=self.clock() + timedelta(seconds=max(0.0, delay_seconds)),
                    leased_until=None,
                    last_error=error[:500],
                )
            )

    async def defer(self, item_ids: list[int], delay_seconds: float, error: str | None = None) -> None:
        """Give leased items back, due again after ``delay_seconds``, without counting an attempt.

        For items that never reached the channel because their chat is paused (a 429 or an outage
        hit an earlier message): they keep their order and are not taken again before the pause ends.
        """
        values: dict[str, Any] = {
            "next_attempt_at": self.clock() + timedelta(seconds=max(0.0, delay_seconds)),
        }
        if error is not None:
            values["last_error"] = error[:500]
        await self._give_back(item_ids, values)

    async def release(self, item_ids: list[int]) -> None:
        """Give leased items back at once (on shutdown) without counting an attempt."""
        await self._give_back(item_ids, {})

    async def _give_back(self, item_ids: list[int], values: dict[str, Any]) -> None:
        if not item_ids:
            return
        async with self.db.write() as session:
            fewer = func.greatest if not self.db.is_sqlite else func.max
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(item_ids), OutboxItem.status == PENDING)
                .values(leased_until=None, attempts=fewer(OutboxItem.attempts - 1, 0), **values)
            )

    async def dead(self, item_id: int, error: str) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.status == PENDING)
                .values(status=DEAD, last_error=error[:500], leased_until=None, address_sealed=None)
            )

    # ---- looking -----------------------------------------------------------------------------------
    async def pending_count(self, channel: str | None = None) -> int:
        async with self.db.read() as session:
            query = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == PENDING)
            if channel:
                query = query.where(OutboxItem.channel == channel)
            return int(await session.scalar(query) or 0)

    async def oldest_pending_seconds(self, channel: str | None = None) -> float:
        async with self.db.read() as session:
            query = select(func.min(OutboxItem.created_at)).where(OutboxItem.status == PENDING)
            if channel:
                query = query.where(OutboxItem.channel == channel)
            oldest = await session.scalar(query)
        return max(0.0, (self.clock() - oldest).total_seconds()) if oldest else 0.0

    async def next_due_in(self, channel: str) -> float | None:
        """Seconds until the next pending item is due (0 if one is due now), None if none."""
        async with self.db.read() as session:
            when = await session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(
                    OutboxItem.channel == channel, OutboxItem.status == PENDING
                )
            )
        if when is None:
            return None
        return max(0.0, (when - self.clock()).total_seconds())

    async def purge(self, older_than: timedelta) -> int:
        """Housekeeping: delivered and dead items older than ``older_than``."""
        cutoff = self.clock() - older_than
        async with self.db.write() as session:
            result = await session.execute(
                delete(OutboxItem).where(OutboxItem.status.in_((SENT, DEAD)), OutboxItem.created_at < cutoff)
            )
        return int(result.rowcount or 0)


async def withdraw_for_person(session: AsyncSession, person_ids: Iterable[int]) -> int:
    """Inside a /forget: delete what still waits for these people (before their rows go)."""
    ids = list(person_ids)
    if not ids:
        return 0
    result = await session.execute(
        delete(OutboxItem).where(OutboxItem.person_id.in_(ids), OutboxItem.status == PENDING)
    )
    return int(result.rowcount or 0)
