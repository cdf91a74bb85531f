"""Which case a message in the staff chat belongs to (relayed copies, reminders), for replies to them
when the staff chat is not a forum."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import RelayLink


async def record(
    sessions: async_sessionmaker[AsyncSession],
    case_id: int,
    staff_message_id: int,
    person_message_id: int | None = None,
    direction: str = "in",
) -> None:
    async with sessions() as session, session.begin():
        session.add(
            RelayLink(
                case_id=case_id,
                person_message_id=person_message_id,
                staff_message_id=staff_message_id,
                direction=direction,
            )
        )


async def case_for_staff_message(
    sessions: async_sessionmaker[AsyncSession], staff_message_id: int
) -> int | None:
    async with sessions() as session:
        return await session.scalar(
            select(RelayLink.case_id)
            .where(RelayLink.staff_message_id == staff_message_id)
            .order_by(RelayLink.id.desc())
            .limit(1)
        )
