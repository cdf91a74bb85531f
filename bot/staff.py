"""The counsellors' desk: the queue, claiming, replying and closing. Channel-agnostic.

Used by the terminal staff console and by the Telegram staff chat alike. Every action is written to
the audit log; every message to the person goes through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import case_event, case_signals
from bot.domain import Audience, Button, CaseEvent, Reply, Risk, Signal
from bot.outbox import person_item, staff_item
from bot.privacy import Pseudonymizer
from bot.storage.models import AuditEntry, Case, Conversation, Message, OutboxItem, Person, utcnow
from bot.texts import Content

RISK_RANK = sql_case({r.value: r.rank for r in Risk}, value=Case.risk, else_=0)


@dataclass(frozen=True)
class StaffMember:
    id: str  # the staff channel's user id (staff are not anonymous to the system)
    name: str


@dataclass(frozen=True)
class CaseView:
    id: int
    status: str
    priority: int
    risk: Risk
    category: str | None
    topics: tuple[str, ...]
    signals: tuple[Signal, ...]
    audience: str
    gender: str | None
    language: str | None
    channel: str
    created_at: datetime
    waiting_since: datetime | None
    claimed_at: datetime | None
    closed_at: datetime | None
    assignee_id: str | None
    assignee_name: str | None
    staff_thread_id: int | None
    staff_card_message_id: int | None
    last_messages: tuple[tuple[str, str], ...]  # (sender, text), oldest first
    person_id: int | None

    def waiting_seconds(self, now: datetime) -> float:
        start = self.waiting_since or self.created_at
        return max(0.0, (now - start).total_seconds())


# What to tell a counsellor when an action did not go through, by ActionResult.reason (string keys).
REASON_KEYS = {
    "not_found": "staff.not_found",
    "already_claimed": "staff.already_claimed",
    "not_assignee": "staff.not_assignee",
    "closed": "staff.already_closed",
    "not_open": "staff.not_open",
    "gone": "staff.person_gone",
    "empty": "staff.empty",
}


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    case: CaseView | None
    reason: str = ""  # not_found | already_claimed | not_assignee | closed | not_open | gone
    holder: str | None = None  # who has the case when a claim lost
    event: CaseEvent | None = None


class StaffDesk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        pseudo: Pseudonymizer,
        staff_channel: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.content = content
        self.pseudo = pseudo
        self.staff_channel = staff_channel
        self.clock = clock

    # ---- reading -------------------------------------------------------------------------------
    async def queue(self, include_claimed: bool = True) -> list[CaseView]:
        """Open cases, most urgent first, then longest waiting."""
        statuses = ["queued", "claimed"] if include_claimed else ["queued"]
        async with self.sessions() as session:
            cases = list(
                await session.scalars(
                    select(Case)
                    .where(Case.status.in_(statuses))
                    .order_by(Case.priority.desc(), RISK_RANK.desc(), Case.waiting_since.asc(), Case.id.asc())
                )
            )
            return [await self._view(session, c, messages=3) for c in cases]

    async def case(self, case_id: int, messages: int = 10) -> CaseView | None:
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            return await self._view(session, case, messages) if case else None

    async def due_reminders(self, imminent_seconds: int, urgent_seconds: int) -> list[CaseView]:
        """Unclaimed urgent/imminent cases whose last announcement is older than their interval."""
        now = self.clock()
        async with self.sessions() as session:
            cases = list(
                await session.scalars(
                    select(Case).where(
                        Case.status == "queued", Case.risk.in_((Risk.URGENT.value, Risk.IMMINENT.value))
                    )
                )
            )
            due = []
            for case in cases:
                interval = imminent_seconds if case.risk == Risk.IMMINENT.value else urgent_seconds
                last = case.last_announced_at or case.waiting_since or case.created_at
                if (now - last).total_seconds() >= interval:
                    due.append(await self._view(session, case, messages=3))
            return sorted(due, key=lambda v: (-v.priority, -v.risk.rank, v.waiting_since or v.created_at))

    # ---- bookkeeping for staff channels ----------------------------------------------------------
    async def mark_announced(self, case_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Case).where(Case.id == case_id).values(last_announced_at=self.clock())
            )

    async def set_staff_refs(
        self,
        case_id: int,
        thread_id: int | None = None,
        card_message_id: int | None = None,
        clear_thread: bool = False,
    ) -> None:
        values: dict[str, Any] = {}
        if thread_id is not None or clear_thread:
            values["staff_thread_id"] = thread_id
        if card_message_id is not None:
            values["staff_card_message_id"] = card_message_id
        if values:
            async with self.sessions() as session, session.begin():
                await session.execute(update(Case).where(Case.id == case_id).values(**values))

    async def case_by_thread(self, thread_id: int) -> CaseView | None:
        async with self.sessions() as session:
            case = await session.scalar(
                select(Case).where(Case.staff_thread_id == thread_id).order_by(Case.id.desc()).limit(1)
            )
            return await self._view(session, case, messages=0) if case else None

    async def case_by_card(self, message_id: int) -> CaseView | None:
        async with self.sessions() as session:
            case = await session.scalar(select(Case).where(Case.staff_card_message_id == message_id))
            return await self._view(session, case, messages=0) if case else None

    # ---- actions -------------------------------------------------------------------------------
    async def claim(self, case_id: int, staff: StaffMember) -> ActionResult:
        """Atomic: of two counsellors claiming at once, exactly one wins."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Case)
                .where(Case.id == case_id, Case.status == "queued")
                .values(status="claimed", claimed_at=now, assignee_id=staff.id, assignee_name=staff.name)
                .execution_options(synchronize_session=False)
            )
            case = await session.get(Case, case_id, populate_existing=True)
            if case is None:
                return ActionResult(False, None, "not_found")
            if result.rowcount != 1:
                view = await self._view(session, case, 0)
                if case.status == "claimed":
                    return ActionResult(False, view, "already_claimed", holder=case.assignee_name)
                return ActionResult(False, view, "closed" if case.status == "closed" else "not_open")
            self._audit(session, staff, "claim", case.id, {"priority": case.priority, "risk": case.risk})
            person = await self._person(session, case)
            if person is not None:
                self._to_person(session, person, case, Reply(self._t(person, "relay.joined")), now)
            event = case_event(case, "case_claimed")
            self._staff_event(session, event, now)
            return ActionResult(True, await self._view(session, case, 0), event=event)

    async def release(self, case_id: int, staff: StaffMember) -> ActionResult:
        """Give a claimed case back to the queue (e.g. end of shift)."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id, with_for_update=True)
            if case is None:
                return ActionResult(False, None, "not_found")
            if case.status != "claimed" or case.assignee_id != staff.id:
                return ActionResult(False, await self._view(session, case, 0), "not_assignee")
            case.status = "queued"
            case.assignee_id = case.assignee_name = None
            case.claimed_at = None
            case.last_announced_at = None
            self._audit(session, staff, "release", case.id, {})
            event = case_event(case, "case_updated")
            self._staff_event(session, event, now)
            return ActionResult(True, await self._view(session, case, 0), event=event)

    async def reply(
        self,
        case_id: int,
        staff: StaffMember,
        text: str | None = None,
        media: str | None = None,
        media_ref: dict[str, Any] | None = None,
    ) -> ActionResult:
        """A counsellor's message to the person, under a neutral counsellor name."""
        now = self.clock()
        text = (text or "").strip()
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id)
            if case is None:
                return ActionResult(False, None, "not_found")
            if case.status != "claimed":
                return ActionResult(
                    False,
                    await self._view(session, case, 0),
                    "not_open" if case.status != "closed" else "closed",
                )
            if case.assignee_id != staff.id:
                return ActionResult(
                    False, await self._view(session, case, 0), "not_assignee", holder=case.assignee_name
                )
            person = await self._person(session, case)
            if person is None:
                return ActionResult(False, await self._view(session, case, 0), "gone")
            if not text and not media:
                return ActionResult(False, await self._view(session, case, 0), "empty")
            if case.first_response_at is None:
                case.first_response_at = now
            session.add(
                Message(
                    conversation_id=case.conversation_id,
                    sender="counsellor",
                    text=text or None,
                    media=media,
                    created_at=now,
                )
            )
            if media:
                item = self._to_person(session, person, case, Reply(text, kind="media"), now)
                # "label": what the person sees with the copy, in their language, under the neutral name.
                label = self._t(person, "relay.prefix", text=text) if text else self._t(person, "relay.media")
                item.payload = {
                    **item.payload,
                    "media": media,
                    "media_ref": media_ref or {},
                    "caption": text,
                    "label": label,
                }
            else:
                self._to_person(
                    session,
                    person,
                    case,
                    Reply(self._t(person, "relay.prefix", text=text), kind="relay"),
                    now,
                )
            self._audit(session, staff, "reply", case.id, {"media": media} if media else {})
            return ActionResult(True, await self._view(session, case, 0))

    async def close(self, case_id: int, staff: StaffMember) -> ActionResult:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id, with_for_update=True)
            if case is None:
                return ActionResult(False, None, "not_found")
            if case.status == "closed":
                return ActionResult(False, await self._view(session, case, 0), "closed")
            if case.status == "claimed" and case.assignee_id != staff.id:
                return ActionResult(
                    False, await self._view(session, case, 0), "not_assignee", holder=case.assignee_name
                )
            case.status = "closed"
            case.closed_at = now
            case.closed_by = staff.name
            conversation = await session.get(Conversation, case.conversation_id)
            person = await self._person(session, case)
            if person is not None and conversation is not None:
                self._to_person(session, person, case, Reply(self._t(person, "close.message")), now)
                buttons = (
                    Button(self._t(person, "btn.fb_yes"), f"fb:yes:{case.id}"),
                    Button(self._t(person, "btn.fb_no"), f"fb:no:{case.id}"),
                )
                self._to_person(
                    session, person, case, Reply(self._t(person, "close.ask_feedback"), (buttons,)), now
                )
                state = dict(conversation.state or {})
                state["offered"] = [*list(state.get("offered") or []), *(b.data for b in buttons)]
                state.pop("risk_check", None)
                conversation.state = state
            if conversation is not None:
                conversation.ended_at = now
            self._audit(session, staff, "close", case.id, {"risk": case.risk})
            event = case_event(case, "case_closed")
            self._staff_event(session, event, now)
            return ActionResult(True, await self._view(session, case, 0), event=event)

    # ---- helpers -------------------------------------------------------------------------------
    async def _person(self, session: AsyncSession, case: Case) -> Person | None:
        return await session.get(Person, case.person_id) if case.person_id else None

    def _t(self, person: Person, key: str, **kw: Any) -> str:
        return self.content.t(key, person.language or "az", Audience(person.audience or "unknown"), **kw)

    def _to_person(
        self, session: AsyncSession, person: Person, case: Case, reply: Reply, now: datetime
    ) -> OutboxItem:
        item = person_item(person, reply, now, case.id)
        session.add(item)
        if reply.kind != "media":
            session.add(
                Message(conversation_id=case.conversation_id, sender="bot", text=reply.text, created_at=now)
            )
        return item

    def _staff_event(self, session: AsyncSession, event: CaseEvent, now: datetime) -> None:
        if self.staff_channel:
            session.add(staff_item(self.staff_channel, "case_event", now, event.case_id, event.as_dict()))

    def _audit(
        self, session: AsyncSession, staff: StaffMember, action: str, case_id: int, detail: dict[str, Any]
    ) -> None:
        session.add(
            AuditEntry(
                actor_id=staff.id,
                actor_name=staff.name,
                action=action,
                case_id=case_id,
                detail=detail,
                at=self.clock(),
            )
        )

    async def _view(self, session: AsyncSession, case: Case, messages: int) -> CaseView:
        conversation = await session.get(Conversation, case.conversation_id)
        last: list[tuple[str, str]] = []
        if messages:
            rows = await session.execute(
                select(Message.sender, Message.text, Message.media)
                .where(Message.conversation_id == case.conversation_id, Message.sender != "bot")
                .order_by(Message.id.desc())
                .limit(messages)
            )
            last = [(s, t if t else f"[{m or 'button'}]") for s, t, m in rows][::-1]
        return CaseView(
            id=case.id,
            status=case.status,
            priority=case.priority,
            risk=Risk(case.risk),
            category=case.category,
            topics=tuple(case.topics or ()),
            signals=case_signals(case),
            audience=(conversation.audience if conversation else "unknown") or "unknown",
            gender=conversation.gender if conversation else None,
            language=conversation.language if conversation else None,
            channel=case.channel,
            created_at=case.created_at,
            waiting_since=case.waiting_since,
            claimed_at=case.claimed_at,
            closed_at=case.closed_at,
            assignee_id=case.assignee_id,
            assignee_name=case.assignee_name,
            staff_thread_id=case.staff_thread_id,
            staff_card_message_id=case.staff_card_message_id,
            last_messages=tuple(last),
            person_id=case.person_id,
        )
