"""Tables the Telegram channel owns: where each case lives in the staff chat, and which staff-chat
message belongs to which case. The core knows nothing of them (the migrations create them with the
rest of the schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, BigId, utcnow


class TelegramCase(Base):
    """A case's forum topic and card in the staff chat."""

    __tablename__ = "telegram_cases"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class TelegramLink(Base):
    """A message in the staff chat that belongs to a case (a relayed copy, a note, an alert), so a
    reply to it reaches the right person, and /forget can delete the person's words from the chat."""

    __tablename__ = "telegram_links"
    __table_args__ = (Index("ix_telegram_links_staff", "staff_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_message_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(8))  # in (the person's words) | note (the bot's)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
