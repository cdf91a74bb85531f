"""The durable outbox: everything the bot sends waits here until a channel adapter confirms delivery.

Adapters call :meth:`Outbox.due` to take a batch, deliver each item, and report back with
:meth:`sent`, :meth:`retry` (with a delay: backoff, or a 429's ``retry_after``) or :meth:`dead`
(only for what can never be delivered, e.g. the person blocked the bot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import Reply
from bot.privacy import Pseudonymizer
from bot.storage.models import OutboxItem, Person, utcnow

LEASE = timedelta(seconds=60)  # an item taken but not reported back is retried after this


@dataclass(frozen=True)
class Delivery:
    """One outbox item as an adapter sees it: the address already unsealed."""

    id: int
    channel: str
    target: str  # person | staff
    kind: str
    address: str | None  # the person's chat address (None for staff items)
    person_id: int | None
    case_id: int | None
    payload: dict[str, Any]
    attempts: int


def reply_payload(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": [[{"text": b.text, "data": b.data} for b in row] for row in reply.buttons],
    }


def person_item(
    person: Person, reply: Reply, now: datetime, case_id: int | None = None, keep_person: bool = True
) -> OutboxItem:
    """A message to a person, addressed by their sealed address. ``keep_person=False`` detaches it
    from the person's row (used by /forget, whose confirmation outlives the row)."""
    return OutboxItem(
        channel=person.channel,
        target="person",
        kind=reply.kind,
        person_id=person.id if keep_person else None,
        address_sealed=person.address_sealed,
        case_id=case_id,
        payload=reply_payload(reply),
        created_at=now,
        next_attempt_at=now,
    )


def staff_item(
    channel: str, kind: str, now: datetime, case_id: int | None, payload: dict[str, Any], **extra: Any
) -> OutboxItem:
    """Something for the staff chat: a case event, a relayed message, a reminder."""
    return OutboxItem(
        channel=channel,
        target="staff",
        kind=kind,
        case_id=case_id,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
        **extra,
    )


def backoff(attempts: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff in seconds: 1, 2, 4, ... capped at five minutes."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


class Outbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pseudo: Pseudonymizer,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.pseudo = pseudo
        self.clock = clock

    async def due(self, channel: str, limit: int = 50, target: str | None = None) -> list[Delivery]:
        """Take up to ``limit`` items that are due, oldest first, and lease them."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            query = (
                select(OutboxItem)
                .where(
                    OutboxItem.channel == channel,
                    OutboxItem.status == "pending",
                    OutboxItem.next_attempt_at <= now,
                )
                .order_by(OutboxItem.id)
                .limit(limit)
            )
            if target is not None:
                query = query.where(OutboxItem.target == target)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            items = list(await session.scalars(query))
            for item in items:
                item.next_attempt_at = now + LEASE
                item.attempts += 1
            return [
                Delivery(
                    id=item.id,
                    channel=item.channel,
                    target=item.target,
                    kind=item.kind,
                    address=self.pseudo.unseal(item.address_sealed) if item.address_sealed else None,
                    person_id=item.person_id,
                    case_id=item.case_id,
                    payload=dict(item.payload or {}),
                    attempts=item.attempts,
                )
                for item in items
            ]

    async def enqueue_staff(
        self, channel: str, kind: str, case_id: int | None, payload: dict[str, Any]
    ) -> int:
        """Queue something for the staff chat that no engine turn produced (e.g. a reminder)."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            item = staff_item(channel, kind, now, case_id, payload)
            session.add(item)
            await session.flush()
            return item.id

    async def sent(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(status="sent", sent_at=self.clock(), result=result, last_error=None)
            )

    async def sent_many(self, results: list[tuple[int, dict[str, Any] | None]]) -> None:
        """Mark several items delivered in one transaction (an adapter's batched acknowledgements)."""
        if not results:
            return
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem),
                [
                    {"id": item_id, "status": "sent", "sent_at": now, "result": result, "last_error": None}
                    for item_id, result in results
                ],
            )

    async def retry(self, item_id: int, delay_seconds: float, error: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(
                    next_attempt_at=self.clock() + timedelta(seconds=max(0.0, delay_seconds)),
                    last_error=error[:500],
                )
            )

    async def defer(self, item_ids: list[int], delay_seconds: float, error: str | None = None) -> None:
        """Give leased items back, due again after ``delay_seconds``, without counting an attempt.

        For items that never reached the channel because their chat is paused (a 429 or an outage
        hit an earlier message): they keep their order and are not taken again before the pause ends.
        """
        if not item_ids:
            return
        async with self.sessions() as session, session.begin():
            fewer = (
                func.greatest(OutboxItem.attempts - 1, 0)
                if session.bind.dialect.name == "postgresql"
                else func.max(OutboxItem.attempts - 1, 0)
            )
            values: dict[str, Any] = {
                "next_attempt_at": self.clock() + timedelta(seconds=max(0.0, delay_seconds)),
                "attempts": fewer,
            }
            if error is not None:
                values["last_error"] = error[:500]
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(item_ids), OutboxItem.status == "pending")
                .values(**values)
            )

    async def enqueue_person(
        self, channel: str, address: str, payload: dict[str, Any], kind: str = "text"
    ) -> int:
        """Queue a message to a chat address that no engine turn produced (e.g. "sorry, an error")."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            item = OutboxItem(
                channel=channel,
                target="person",
                kind=kind,
                address_sealed=self.pseudo.seal(address),
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
            session.add(item)
            await session.flush()
            return item.id

    async def dead(self, item_id: int, error: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(status="dead", last_error=error[:500])
            )

    async def release(self, item_ids: list[int]) -> None:
        """Give leased items back at once (e.g. on shutdown) without counting an attempt."""
        if not item_ids:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(item_ids), OutboxItem.status == "pending")
                .values(
                    next_attempt_at=self.clock(),
                    attempts=func.greatest(OutboxItem.attempts - 1, 0)
                    if session.bind.dialect.name == "postgresql"
                    else func.max(OutboxItem.attempts - 1, 0),
                )
            )

    async def pending_count(self, channel: str | None = None) -> int:
        async with self.sessions() as session:
            query = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            if channel:
                query = query.where(OutboxItem.channel == channel)
            return int(await session.scalar(query) or 0)

    async def next_due_in(self, channel: str) -> float | None:
        """Seconds until the next pending item is due (0 if one is due now), None if none."""
        async with self.sessions() as session:
            when = await session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(
                    OutboxItem.channel == channel, OutboxItem.status == "pending"
                )
            )
        if when is None:
            return None
        return max(0.0, (when - self.clock()).total_seconds())
