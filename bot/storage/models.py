"""SQLAlchemy 2 models. The schema itself is owned by the Alembic migrations in
``bot/storage/migrations``; these classes must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Person(Base):
    """A person writing to the bot, known only by a keyed hash of their channel id."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("channel", "pseudonym", name="uq_people_channel_pseudonym"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    pseudonym: Mapped[str] = mapped_column(String(64))
    address_sealed: Mapped[str | None] = mapped_column(Text)
    anon_token: Mapped[str] = mapped_column(String(32))  # random; survives /forget on conversations
    language: Mapped[str | None] = mapped_column(String(8))
    language_chosen: Mapped[bool] = mapped_column(default=False)
    audience: Mapped[str] = mapped_column(String(16), default="unknown")
    gender: Mapped[str | None] = mapped_column(String(16))
    asked_profile: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """One contact with the helpline. Keeps anonymous facts for the reports after /forget."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_person_active", "person_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_token: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    audience: Mapped[str] = mapped_column(String(16), default="unknown")
    gender: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(default=0)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Message(Base):
    """A message in or out. Text is deleted by /forget."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(16))  # person | bot | counsellor
    text: Mapped[str | None] = mapped_column(Text)
    button: Mapped[str | None] = mapped_column(String(128))
    media: Mapped[str | None] = mapped_column(String(32))
    risk: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """The helpline's record of a contact and its place in the counsellor queue.

    Its status and every change of it belong to ``bot/lifecycle.py``.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "status", "priority", "waiting_since"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="bot")
    priority: Mapped[int] = mapped_column(default=0)
    category: Mapped[str | None] = mapped_column(String(32))
    risk: Mapped[str] = mapped_column(String(16), default="none")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    signals: Mapped[list[Any]] = mapped_column(default=list)
    opened_reason: Mapped[str | None] = mapped_column(String(16))  # risk | request
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    waiting_since: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    assignee_name: Mapped[str | None] = mapped_column(String(128))
    closed_by: Mapped[str | None] = mapped_column(String(128))  # the counsellor's display name
    closed_by_id: Mapped[str | None] = mapped_column(String(64))  # the counsellor's staff id
    outcome: Mapped[str | None] = mapped_column(String(32))  # bot.domain.CloseOutcome
    person_left_at: Mapped[datetime | None]  # /forget while the case was open at risk
    last_announced_at: Mapped[datetime | None]
    risk_raised_at: Mapped[datetime | None]  # the last rise of risk
    risk_seen_at: Mapped[datetime | None]  # the counsellor last looked (claim, reply, a refused close)
    feedback: Mapped[str | None] = mapped_column(String(16))  # the person's "did this help?"
    # The counsellor's review at closing: the risk and category the case really had (triage labels).
    review_risk: Mapped[str | None] = mapped_column(String(16))
    review_category: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Every staff action on a case, for accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboxEntry(Base):
    """The inbox: every incoming update, written before it is handled, keyed by the channel's id.

    A duplicate delivery finds its entry and is not handled again; an entry still ``received`` after
    a crash or an outage is replayed. The raw payload is kept only until the update is handled.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external"),
        Index("ix_inbox_pending", "channel", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="received")  # received | done | failed
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # raw update until handled, then cleared
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_until: Mapped[datetime | None]  # a process is handling it until then (replays wait)
    done_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxItem(Base):
    """Everything the bot sends, written in the same transaction as the state that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "channel", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(16))  # person | staff
    kind: Mapped[str] = mapped_column(String(32))  # reply | relay | media | case_event | ...
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    address_sealed: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)  # not before (backoff, 429)
    leased_until: Mapped[datetime | None]  # taken by a sender until then
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ArticleRating(Base):
    """A self-help article's "did this help?" (anonymous: survives /forget like the conversation)."""

    __tablename__ = "article_ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    article_id: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool]
    rated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TriageLabel(Base):
    """A counsellor's review of a case's risk and category, with the person's words: a labelled
    example for retraining the triage. Deleted by /forget and after the retention period."""

    __tablename__ = "triage_labels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    risk: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    predicted_risk: Mapped[str | None] = mapped_column(String(16))
    predicted_category: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
