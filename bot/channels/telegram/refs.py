"""The Telegram channel's own records: each case's topic and card, and which staff-chat message
belongs to which case (so a reply to it reaches the right person, and /forget can take the person's
words out of the chat)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.channels.telegram.models import TelegramCase, TelegramLink
from bot.storage.db import Database

IN, NOTE, QUOTE = "in", "note", "quote"  # the person's words | the bot's note | a note quoting the person


class Refs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: int) -> tuple[int | None, int | None]:
        """(thread id, card message id) of a case, None where there is none yet."""
        async with self.db.read() as session:
            row = await session.get(TelegramCase, case_id)
            return (row.thread_id, row.card_message_id) if row else (None, None)

    async def set(
        self, case_id: int, *, thread_id: int | bool | None = False, card: int | bool | None = False
    ) -> None:
        """Record a case's thread and/or card (``False``: leave as it is; ``None``: clear)."""
        values: dict[str, int | None] = {}
        if thread_id is not False:
            values["thread_id"] = thread_id  # type: ignore[assignment]
        if card is not False:
            values["card_message_id"] = card  # type: ignore[assignment]
        if not values:
            return
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        statement = insert(TelegramCase).values(case_id=case_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["case_id"], set_=values)
        async with self.db.write() as session:
            await session.execute(statement)

    async def case_by_thread(self, thread_id: int) -> int | None:
        async with self.db.read() as session:
            return await session.scalar(
                select(TelegramCase.case_id)
                .where(TelegramCase.thread_id == thread_id)
                .order_by(TelegramCase.case_id.desc())
                .limit(1)
            )

    async def case_by_message(self, message_id: int) -> int | None:
        """The case a staff-chat message belongs to: its card, or a relayed copy or note."""
        async with self.db.read() as session:
            case_id = await session.scalar(
                select(TelegramCase.case_id).where(TelegramCase.card_message_id == message_id)
            )
            if case_id is not None:
                return case_id
            return await session.scalar(
                select(TelegramLink.case_id)
                .where(TelegramLink.staff_message_id == message_id)
                .order_by(TelegramLink.id.desc())
                .limit(1)
            )

    async def link(
        self, case_id: int, staff_message_ids: list[int], direction: str, person_message_id: int | None = None
    ) -> None:
        if not staff_message_ids:
            return
        async with self.db.write() as session:
            session.add_all(
                TelegramLink(
                    case_id=case_id,
                    staff_message_id=mid,
                    person_message_id=person_message_id,
                    direction=direction,
                )
                for mid in staff_message_ids
            )

    async def person_words(self, case_ids: list[int]) -> list[int]:
        """Staff-chat messages that carry a person's words (relayed copies, quoting alerts)."""
        async with self.db.read() as session:
            return list(
                await session.scalars(
                    select(TelegramLink.staff_message_id).where(
                        TelegramLink.case_id.in_(case_ids),
                        TelegramLink.direction.in_((IN, QUOTE)),
                        TelegramLink.staff_message_id.is_not(None),
                    )
                )
            )

    async def forget_words(self, case_ids: list[int]) -> None:
        async with self.db.write() as session:
            await session.execute(
                delete(TelegramLink).where(
                    TelegramLink.case_id.in_(case_ids), TelegramLink.direction.in_((IN, QUOTE))
                )
            )
