"""What the sender reads from the database besides the outbox items themselves.

- When each person last wrote (their conversations' ``last_activity_at``, set by the engine on every
  message they send; ``people.last_seen_at`` is kept only to the hour): Meta's messaging windows
  (24 hours; 7 days for a counsellor's reply) count from there.
- Whether a person is known to be unreachable: a message to them was refused because they blocked the
  Page or deleted their account (the dead outbox item says so), and they have not written since.
- Whether an older message to a person still waits (for a retry after an error, possibly from before a
  restart): a newer one must wait behind it, so a person's messages always arrive in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.channels.messenger.events import CHANNELS
from bot.storage.db import Database
from bot.storage.models import Conversation, OutboxItem
from bot.storage.outbox import DEAD, PENDING

UNREACHABLE = "unreachable"  # how a dead item's error begins when the person cannot be reached


@dataclass(frozen=True)
class Facts:
    last_seen: datetime | None = None
    unreachable: bool = False


async def facts(db: Database, person_ids: Iterable[int]) -> dict[int, Facts]:
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    async with db.read() as session:
        seen = dict(
            (
                await session.execute(
                    select(Conversation.person_id, func.max(Conversation.last_activity_at))
                    .where(Conversation.person_id.in_(ids))
                    .group_by(Conversation.person_id)
                )
            ).all()
        )
        blocked = dict(
            (
                await session.execute(
                    select(OutboxItem.person_id, func.max(OutboxItem.created_at))
                    .where(
                        OutboxItem.person_id.in_(ids),
                        OutboxItem.status == DEAD,
                        OutboxItem.last_error.like(UNREACHABLE + "%"),
                    )
                    .group_by(OutboxItem.person_id)
                )
            ).all()
        )
    found: dict[int, Facts] = {}
    for person_id in ids:
        last = seen.get(person_id)
        marked = blocked.get(person_id)
        found[person_id] = Facts(last, marked is not None and (last is None or marked >= last))
    return found


async def waiting_before(
    db: Database, items: Iterable[tuple[int, int]], skip: set[int]
) -> dict[int, datetime]:
    """For (item id, person id) pairs: the items that have an older pending item of the same person
    not in ``skip`` (held here or taken in this batch), and when that older one is due."""
    pairs = list(items)
    if not pairs:
        return {}
    people = sorted({person for _, person in pairs})
    newest = max(item for item, _ in pairs)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(OutboxItem.id, OutboxItem.person_id, OutboxItem.next_attempt_at).where(
                    OutboxItem.channel.in_(CHANNELS),
                    OutboxItem.status == PENDING,
                    OutboxItem.target == "person",
                    OutboxItem.person_id.in_(people),
                    OutboxItem.id < newest,
                )
            )
        ).all()
    older: dict[int, list[tuple[int, datetime]]] = {}
    for row_id, person_id, due in rows:
        if row_id not in skip:
            older.setdefault(person_id, []).append((row_id, due))
    blocked: dict[int, datetime] = {}
    for item_id, person_id in pairs:
        before = [due for row_id, due in older.get(person_id, ()) if row_id < item_id]
        if before:
            blocked[item_id] = max(before)
    return blocked
