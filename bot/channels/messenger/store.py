"""What the sender reads from the database besides the outbox items themselves.

- When each person last wrote (their conversations' ``last_activity_at``, set by the engine on every
  message they send; ``people.last_seen_at`` is kept only to the hour): Meta's messaging windows
  (24 hours; 7 days for a counsellor's reply) count from there.
- Whether a person is known to be unreachable: a message to them was refused because they blocked the
  Page or deleted their account (the dead outbox item says so), and they have not written since.

(That a newer message never overtakes an older one waiting for a retry is kept by ``Outbox.due``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import Conversation, OutboxItem
from bot.storage.outbox import DEAD

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
