"""The counsellors' desk: the queue, claiming, replying, closing, reviewing and reminders.

Channel-free: the terminal console and the Telegram staff chat use it alike. Each action is one
transaction with the case row locked; what it may do and what it causes is decided by
``bot.lifecycle``; every action goes to the audit log; every message to the person goes through the
outbox. An action that carries the staff channel's update id is done once even if the update is
delivered twice at the same moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import lifecycle
from bot.deliveries import CaseNote, MediaToPerson, Reminder, ToPerson
from bot.domain import (
    Audience,
    Button,
    CaseEvent,
    CaseStatus,
    Category,
    CloseOutcome,
    Reply,
    Risk,
    Signal,
    StaffMember,
)
from bot.payloads import CaseFeedback
from bot.privacy import Pseudonymizer
from bot.storage.db import Database, retrying
from bot.storage.inbox import Inbox
from bot.storage.models import AuditEntry, Case, Conversation, Message, Person, TriageLabel, utcnow
from bot.storage.outbox import to_person, to_staff
from bot.texts import Content

log = logging.getLogger(__name__)

LABEL_MESSAGES = 6  # a counsellor's review labels the person's last few messages of the case
LABEL_CHARS = 2_000


@dataclass(frozen=True)
class CaseView:
    """A case as the staff side shows it."""

    id: int
    status: CaseStatus
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
    outcome: str | None
    person_left: bool
    reviewed: bool
    last_messages: tuple[tuple[str, str], ...]  # (sender, text), oldest first
    person_id: int | None

    def waiting_seconds(self, now: datetime) -> float:
        start = self.waiting_since or self.created_at
        return max(0.0, (now - start).total_seconds())

    @property
    def open(self) -> bool:
        return self.status in lifecycle.OPEN


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    case: CaseView | None
    refusal: lifecycle.Refusal | None = None
    holder: str | None = None  # who has the case, when that is why it was refused
    event: CaseEvent | None = None
    duplicate: bool = False  # the same update was handled already: nothing was done

    @property
    def reason(self) -> str:
        return self.refusal.value if self.refusal else ""


def refusal_text(content: Content, result: ActionResult, case_id: int, lang: str, me: StaffMember) -> str:
    """What a counsellor is told when an action did not go through: one table for every channel."""
    reason = result.refusal or lifecycle.Refusal.NOT_FOUND
    holder = result.holder or (result.case.assignee_name if result.case else None) or "?"
    return content.t(f"staff.refused.{reason.value}", lang, case=case_id, name=holder, me=me.name)


class StaffDesk:
    def __init__(
        self,
        db: Database,
        content: Content,
        pseudo: Pseudonymizer,
        inbox: Inbox,
        staff_channel: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.content = content
        self.pseudo = pseudo
        self.inbox = inbox
        self.staff_channel = staff_channel
        self.clock = clock

    # ---- reading -------------------------------------------------------------------------------
    async def queue(self) -> list[CaseView]:
        """Open cases, most urgent first, then the longest waiting (claimed ones after the queued)."""
        async with self.db.read() as session:
            cases = list(
                await session.scalars(select(Case).where(Case.status.in_([s.value for s in lifecycle.OPEN])))
            )
            ordered = lifecycle.queue_order(cases)
            ordered.sort(key=lambda c: lifecycle.is_claimed(c))
            return [await self._view(session, c, messages=3) for c in ordered]

    async def case(self, case_id: int, messages: int = 10) -> CaseView | None:
        async with self.db.read() as session:
            case = await session.get(Case, case_id)
            return await self._view(session, case, messages) if case else None

    async def on_duty(self, hours: float = 12.0) -> list[StaffMember]:
        """Counsellors who acted on a case recently, most recent first (to mention in an alert)."""
        since = self.clock() - timedelta(hours=hours)
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(AuditEntry.actor_id, AuditEntry.actor_name)
                    .where(AuditEntry.at >= since)
                    .order_by(AuditEntry.at.desc())
                )
            ).all()
        seen: dict[str, StaffMember] = {}
        for actor_id, name in rows:
            seen.setdefault(actor_id, StaffMember(actor_id, name or "?"))
        return list(seen.values())

    # ---- actions -------------------------------------------------------------------------------
    async def claim(self, case_id: int, staff: StaffMember, update_id: str | None = None) -> ActionResult:
        """Take a case. Of two counsellors claiming at once, exactly one wins."""

        async def act(session: AsyncSession, case: Case, now: datetime) -> lifecycle.Change:
            change = lifecycle.claim(case, staff, now)
            if change.ok:
                person = await self._person(session, case)
                if person is not None and not lifecycle.person_left(case):
                    self._say(session, person, case, Reply(self._t(person, "relay.joined")), now)
            return change

        return await self._act(case_id, staff, "claim", act, update_id)

    async def release(self, case_id: int, staff: StaffMember, update_id: str | None = None) -> ActionResult:
        """Give a claimed case back to the queue (e.g. end of shift)."""

        async def act(session: AsyncSession, case: Case, now: datetime) -> lifecycle.Change:
            return lifecycle.release(case, staff, now)

        return await self._act(case_id, staff, "release", act, update_id)

    async def reply(
        self,
        case_id: int,
        staff: StaffMember,
        text: str | None = None,
        media: str | None = None,
        media_ref: dict[str, Any] | None = None,
        update_id: str | None = None,
    ) -> ActionResult:
        """A counsellor's message to the person, under a neutral counsellor name."""
        text = (text or "").strip()

        async def act(session: AsyncSession, case: Case, now: datetime) -> lifecycle.Change:
            change = lifecycle.reply(case, staff, now, empty=not text and not media)
            if not change.ok:
                return change
            person = await self._person(session, case)
            if person is None:
                return lifecycle.refused(lifecycle.Refusal.PERSON_GONE, case)
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
                label = self._t(person, "relay.prefix", text=text) if text else self._t(person, "relay.media")
                payload = MediaToPerson(media=media, label=label, caption=text, media_ref=media_ref or {})
                session.add(to_person(person, payload, now, case.id))
            else:
                reply = Reply(self._t(person, "relay.prefix", text=text), kind="relay")
                self._say(session, person, case, reply, now, store=False)
            return change

        return await self._act(
            case_id, staff, "reply", act, update_id, detail={"media": media} if media else {}
        )

    async def close(
        self,
        case_id: int,
        staff: StaffMember,
        outcome: CloseOutcome | str | None = None,
        update_id: str | None = None,
    ) -> ActionResult:
        """Close with an outcome. Without one the refusal is ``outcome_needed``: ask for it, then call
        again with it. The person hears that the conversation ended and is asked whether it helped."""

        async def act(session: AsyncSession, case: Case, now: datetime) -> lifecycle.Change:
            change = lifecycle.close(case, staff, now, outcome)
            if not change.ok:
                return change
            conversation = await session.get(Conversation, case.conversation_id)
            person = await self._person(session, case)
            if person is not None and conversation is not None and not lifecycle.person_left(case):
                if lifecycle.was_talked_to(case):
                    self._say(session, person, case, Reply(self._t(person, "close.message")), now)
                    buttons = (
                        Button(self._t(person, "btn.fb_yes"), CaseFeedback(True, case.id).encode()),
                        Button(self._t(person, "btn.fb_no"), CaseFeedback(False, case.id).encode()),
                    )
                    self._say(
                        session, person, case, Reply(self._t(person, "close.ask_feedback"), (buttons,)), now
                    )
                    state = dict(conversation.state or {})
                    state["offered"] = [*list(state.get("offered") or []), *(b.data for b in buttons)]
                    conversation.state = state
                else:
                    self._say(session, person, case, Reply(self._t(person, "close.unclaimed")), now)
            if conversation is not None:
                conversation.ended_at = now
            return change

        return await self._act(
            case_id, staff, "close", act, update_id, detail={"outcome": str(outcome or "")}
        )

    async def review(
        self,
        case_id: int,
        staff: StaffMember,
        risk: Risk | str | None = None,
        category: Category | str | None = None,
    ) -> ActionResult:
        """The counsellor confirms or corrects the closed case's risk and category (one tap each).

        The answer is kept on the case, and the person's words become a labelled example for the
        triage (``python -m bot triage-learn``), unless the person asked to be forgotten.
        """
        level = Risk(risk) if risk else None
        cat = Category(category) if category else None

        async def act(session: AsyncSession, case: Case, now: datetime) -> lifecycle.Change:
            if not lifecycle.is_closed(case):
                return lifecycle.refused(lifecycle.Refusal.NOT_CLAIMED, case)
            if level is not None:
                case.review_risk = level.value
            if cat is not None:
                case.review_category = cat.value
            case.reviewed_at = now
            if case.person_id is None or lifecycle.person_left(case):
                return lifecycle.Change()
            texts = list(
                await session.scalars(
                    select(Message.text)
                    .where(
                        Message.conversation_id == case.conversation_id,
                        Message.sender == "person",
                        Message.text.is_not(None),
                    )
                    .order_by(Message.id.desc())
                    .limit(LABEL_MESSAGES)
                )
            )
            text = "\n".join(reversed([t for t in texts if t and not t.startswith("/")]))[-LABEL_CHARS:]
            if not text:
                return lifecycle.Change()
            label = await session.scalar(select(TriageLabel).where(TriageLabel.case_id == case.id))
            if label is None:
                conversation = await session.get(Conversation, case.conversation_id)
                label = TriageLabel(
                    case_id=case.id,
                    person_id=case.person_id,
                    text=text,
                    predicted_risk=case.risk,
                    predicted_category=case.category,
                    language=conversation.language if conversation else None,
                    created_at=now,
                    risk=case.risk,
                    category=case.category or Category.OTHER.value,
                )
                session.add(label)
            label.text = text
            label.risk = case.review_risk or case.risk
            label.category = case.review_category or case.category or Category.OTHER.value
            return lifecycle.Change()

        detail = {"risk": level.value if level else None, "category": cat.value if cat else None}
        return await self._act(case_id, staff, "review", act, None, detail=detail)

    # ---- reminders -----------------------------------------------------------------------------
    async def remind(self, imminent_seconds: float, urgent_seconds: float) -> list[int]:
        """Queue a reminder for every unclaimed crisis case that is due one; returns their ids.

        Each case's announcement time is moved with a conditional update, so several processes
        running this at once announce a case once.
        """
        now = self.clock()
        reminded: list[int] = []
        async with self.db.write() as session:
            queued = await session.scalars(
                select(Case).where(
                    Case.status == lifecycle.WAITING.value,
                    Case.risk.in_((Risk.URGENT.value, Risk.IMMINENT.value)),
                )
            )
            for case in lifecycle.queue_order(list(queued)):
                if not lifecycle.reminder_due(case, now, imminent_seconds, urgent_seconds):
                    continue
                result = await session.execute(
                    update(Case)
                    .where(Case.id == case.id, _same(Case.last_announced_at, case.last_announced_at))
                    .values(last_announced_at=now)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    continue
                if self.staff_channel:
                    reminder = Reminder(case=case.id, priority=case.priority, risk=case.risk)
                    session.add(to_staff(self.staff_channel, reminder, now, case.id))
                reminded.append(case.id)
        return reminded

    async def mark_announced(self, case_id: int) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(Case).where(Case.id == case_id).values(last_announced_at=self.clock())
            )

    # ---- the transaction around every action ---------------------------------------------------
    async def _act(
        self,
        case_id: int,
        staff: StaffMember,
        action: str,
        act: Callable[[AsyncSession, Case, datetime], Any],
        update_id: str | None,
        detail: dict[str, Any] | None = None,
    ) -> ActionResult:
        return await retrying(lambda: self._act_once(case_id, staff, action, act, update_id, detail))

    async def _act_once(
        self,
        case_id: int,
        staff: StaffMember,
        action: str,
        act: Callable[[AsyncSession, Case, datetime], Any],
        update_id: str | None,
        detail: dict[str, Any] | None,
    ) -> ActionResult:
        now = self.clock()
        async with self.db.write() as session:
            if update_id and not await self.inbox.finish(session, self.staff_channel or "staff", update_id):
                return ActionResult(False, None, duplicate=True)
            case = await self._locked(session, case_id)
            if case is None:
                return ActionResult(False, None, lifecycle.Refusal.NOT_FOUND)
            change: lifecycle.Change = await act(session, case, now)
            if not change.ok:
                view = await self._view(session, case, 0)
                return ActionResult(False, view, change.refusal, holder=change.holder)
            self._audit(session, staff, action, case.id, {"risk": case.risk, **(detail or {})})
            for event in change.events:
                if self.staff_channel:
                    session.add(to_staff(self.staff_channel, CaseNote.of(event), now, case.id))
            view = await self._view(session, case, 0)
            return ActionResult(True, view, event=change.events[0] if change.events else None)

    async def _locked(self, session: AsyncSession, case_id: int) -> Case | None:
        """The case, locked for this transaction; its conversation first (the engine's lock order)."""
        conversation_id = await session.scalar(select(Case.conversation_id).where(Case.id == case_id))
        if conversation_id is None:
            return None
        await session.scalar(
            self.db.locked(select(Conversation.id).where(Conversation.id == conversation_id))
        )
        return await session.scalar(
            self.db.locked(select(Case).where(Case.id == case_id)).execution_options(populate_existing=True)
        )

    # ---- helpers -------------------------------------------------------------------------------
    async def _person(self, session: AsyncSession, case: Case) -> Person | None:
        return await session.get(Person, case.person_id) if case.person_id else None

    def _t(self, person: Person, key: str, **kw: Any) -> str:
        return self.content.t(key, person.language or "az", Audience(person.audience or "unknown"), **kw)

    def _say(
        self,
        session: AsyncSession,
        person: Person,
        case: Case,
        reply: Reply,
        now: datetime,
        store: bool = True,
    ) -> None:
        session.add(to_person(person, ToPerson.of(reply), now, case.id))
        if store:
            session.add(
                Message(conversation_id=case.conversation_id, sender="bot", text=reply.text, created_at=now)
            )

    def _audit(
        self, session: AsyncSession, staff: StaffMember, action: str, case_id: int, detail: dict[str, Any]
    ) -> None:
        session.add(
            AuditEntry(
                actor_id=staff.id,
                actor_name=staff.name,
                action=action,
                case_id=case_id,
                detail={k: v for k, v in detail.items() if v is not None},
                at=self.clock(),
            )
        )

    async def _view(self, session: AsyncSession, case: Case, messages: int) -> CaseView:
        conversation = await session.get(Conversation, case.conversation_id)
        last: list[tuple[str, str]] = []
        if messages:
            rows = await session.execute(
                select(Message.sender, Message.text, Message.media, Message.button)
                .where(Message.conversation_id == case.conversation_id, Message.sender != "bot")
                .order_by(Message.id.desc())
                .limit(messages)
            )
            last = [(s, self._shown(t, m, b, conversation)) for s, t, m, b in rows][::-1]
        return CaseView(
            id=case.id,
            status=lifecycle.status(case),
            priority=case.priority,
            risk=lifecycle.risk(case),
            category=case.category,
            topics=tuple(case.topics or ()),
            signals=lifecycle.signals(case),
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
            outcome=case.outcome,
            person_left=lifecycle.person_left(case),
            reviewed=case.reviewed_at is not None,
            last_messages=tuple(last),
            person_id=case.person_id,
        )

    def _shown(
        self, text: str | None, media: str | None, button: str | None, conv: Conversation | None
    ) -> str:
        """A message as a counsellor reads it: the words, or what kind of media, or the button's text."""
        if text:
            return text
        if media:
            return f"[{media}]"
        if button:
            return "[" + self._button_text(button, conv) + "]"
        return "[…]"

    def _button_text(self, data: str, conv: Conversation | None) -> str:
        lang = (conv.language if conv else None) or "az"
        return self.content.button_label(data, lang)


def _same(column: Any, value: datetime | None) -> Any:
    return column.is_(None) if value is None else column == value
