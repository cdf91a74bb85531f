"""The conversation engine: one entry point for every channel.

``Engine.handle(Inbound)`` stores the message, runs the matching flow, and writes every reply and
every case event to the outbox in the same transaction, then returns what it did. Channel adapters
deliver the outbox; nothing is sent that was not stored first.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import OPEN_STATUSES, case_signals
from bot.config import Settings
from bot.domain import Inbound, Outcome, Signal, TriageResult
from bot.flows import route
from bot.flows.base import Turn
from bot.outbox import person_item, staff_item
from bot.privacy import Pseudonymizer
from bot.storage.models import Case, Conversation, InboundUpdate, Message, OutboxItem, Person, utcnow
from bot.texts import Content

log = logging.getLogger(__name__)

MAX_STORED_CHARS = 200_000  # a 100 KB message is stored whole; beyond this it is cut, and says so
TRIAGE_WINDOW = 6_000  # triage reads the beginning and the end of a very long message
MAX_OFFERED = 80


class TriagePort(Protocol):
    def analyze(self, text: str, prior: tuple[Signal, ...] | list[Signal] = ()) -> TriageResult: ...


def clean_text(text: str | None) -> str:
    """Drop control characters (NUL breaks PostgreSQL) and unpaired surrogates; keep newlines/tabs."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co")
    ).strip()


def triage_view(text: str) -> str:
    if len(text) <= TRIAGE_WINDOW:
        return text
    half = TRIAGE_WINDOW // 2
    return f"{text[:half]}\n{text[-half:]}"


class Engine:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        triager: TriagePort,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.content = content
        self.triager = triager
        self.pseudo = Pseudonymizer(settings.pseudonym_secret)
        self.clock = clock

    # ---- public --------------------------------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Outcome:
        for attempt in range(4):
            try:
                return await self._handle_once(inbound)
            except IntegrityError:
                # A concurrent delivery of the same update, or the same new person twice: retry; the
                # journal then reports the duplicate.
                if attempt == 3:
                    raise
            except OperationalError as exc:  # e.g. SQLite busy beyond its timeout
                if attempt == 3:
                    raise
                log.warning("database busy, retrying: %s", type(exc).__name__)
        raise AssertionError("unreachable")

    async def journal(self, channel: str, external_id: str, payload: dict[str, Any]) -> bool:
        """Write an incoming update before handling it. Returns False if it was already handled."""
        return bool(await self.journal_many(channel, [(external_id, payload)]))

    async def journal_many(self, channel: str, updates: list[tuple[str, dict[str, Any]]]) -> set[str]:
        """``journal`` for a batch of updates in one transaction; returns the external ids to handle
        (new ones, and ones written before but not handled yet). A repeated id is handled once."""
        if not updates:
            return set()
        ids = list(dict.fromkeys(external_id for external_id, _ in updates))
        for attempt in range(2):
            try:
                async with self.sessions() as session, session.begin():
                    known = dict(
                        (
                            await session.execute(
                                select(InboundUpdate.external_id, InboundUpdate.status).where(
                                    InboundUpdate.channel == channel, InboundUpdate.external_id.in_(ids)
                                )
                            )
                        ).all()
                    )
                    fresh: set[str] = set()
                    for external_id, payload in updates:
                        if external_id in fresh:
                            continue
                        status = known.get(external_id)
                        if status is None:
                            session.add(
                                InboundUpdate(channel=channel, external_id=external_id, payload=payload)
                            )
                            fresh.add(external_id)
                        elif status != "done":
                            fresh.add(external_id)
                return fresh
            except IntegrityError:  # written at the same moment by another delivery: look again
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def pending_journal(self, channel: str, limit: int = 100) -> list[InboundUpdate]:
        """Updates written but never handled (a crash mid-way): the adapter replays them.

        Failed ones (``finish_journal`` with an error) are not returned: their payload is gone.
        """
        async with self.sessions() as session:
            rows = await session.scalars(
                select(InboundUpdate)
                .where(InboundUpdate.channel == channel, InboundUpdate.status == "received")
                .order_by(InboundUpdate.id)
                .limit(limit)
            )
            return list(rows)

    async def finish_journal(self, channel: str, external_id: str, error: str | None = None) -> None:
        """Mark a journalled update handled without the engine (e.g. a group message ignored)."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.channel == channel, InboundUpdate.external_id == external_id)
                .values(status="failed" if error else "done", payload=None, done_at=self.clock(), error=error)
            )

    async def purge(self, older_than: timedelta = timedelta(days=7)) -> dict[str, int]:
        """Housekeeping: forget handled delivery ids and delivered outbox items past ``older_than``.

        Conversations and their messages stay until /forget (counsellors need the history).
        """
        cutoff = self.clock() - older_than
        async with self.sessions() as session, session.begin():
            journal = await session.execute(
                delete(InboundUpdate).where(
                    InboundUpdate.status == "done", InboundUpdate.received_at < cutoff
                )
            )
            outbox = await session.execute(
                delete(OutboxItem).where(
                    OutboxItem.status.in_(("sent", "dead")), OutboxItem.created_at < cutoff
                )
            )
        return {"inbound_updates": int(journal.rowcount or 0), "outbox": int(outbox.rowcount or 0)}

    # ---- one transaction -----------------------------------------------------------------------
    async def _handle_once(self, inbound: Inbound) -> Outcome:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            journal: InboundUpdate | None = None
            if inbound.external_id:
                journal = await session.scalar(
                    select(InboundUpdate).where(
                        InboundUpdate.channel == inbound.channel,
                        InboundUpdate.external_id == inbound.external_id,
                    )
                )
                if journal is not None and journal.status == "done":
                    return Outcome(duplicate=True)
                if journal is None:
                    journal = InboundUpdate(channel=inbound.channel, external_id=inbound.external_id)
                    session.add(journal)
                    await session.flush()

            person = await self._person(session, inbound, now)
            text = clean_text(inbound.text)
            if len(text) > MAX_STORED_CHARS:
                text = text[:MAX_STORED_CHARS]
            button = clean_text(inbound.button)[:128] or None

            conversation, case = await self._conversation(session, person, now, button)
            turn = Turn(self, session, person, conversation, case, inbound, now)
            turn.outcome.person_id = person.id
            turn.outcome.conversation_id = conversation.id
            msg = Message(
                conversation_id=conversation.id,
                sender="person",
                text=text or None,
                button=button,
                media=inbound.media,
                created_at=now,
            )
            session.add(msg)
            conversation.message_count += 1
            conversation.last_activity_at = now
            person.last_seen_at = now

            await route(turn, text, button)

            if turn.outcome.triage is not None:
                msg.risk = turn.outcome.triage.risk.value
            if turn.forgotten:
                await self._forget(turn)
            else:
                await self._persist_output(turn, text)
            if journal is not None:
                journal.status = "done"
                journal.payload = None
                journal.done_at = now
            return turn.outcome

    async def _person(self, session: AsyncSession, inbound: Inbound, now: datetime) -> Person:
        pseudonym = self.pseudo.pseudonym(inbound.channel, inbound.user_id)
        person = await session.scalar(
            select(Person).where(Person.channel == inbound.channel, Person.pseudonym == pseudonym)
        )
        address = inbound.address or inbound.user_id
        if person is None:
            person = Person(
                channel=inbound.channel,
                pseudonym=pseudonym,
                address_sealed=self.pseudo.seal(address),
                anon_token=secrets.token_hex(16),
                created_at=now,
                last_seen_at=now,
            )
            hint = (inbound.language_hint or "").split("-")[0].lower()
            if hint in ("ru", "en"):
                person.language = hint
            session.add(person)
            await session.flush()
        elif person.address_sealed is None or self.pseudo.unseal(person.address_sealed) != address:
            person.address_sealed = self.pseudo.seal(address)
        return person

    async def _conversation(
        self, session: AsyncSession, person: Person, now: datetime, button: str | None
    ) -> tuple[Conversation, Case]:
        if button and button.startswith("fb:"):
            # "Did this help?" after a counsellor closed the case: it belongs to that conversation.
            case_id = button.rsplit(":", 1)[-1]
            if case_id.isdigit():
                closed = await session.scalar(
                    select(Case).where(Case.id == int(case_id), Case.person_id == person.id)
                )
                if closed is not None:
                    conversation = await session.get(Conversation, closed.conversation_id)
                    if conversation is not None:
                        return conversation, closed
        conversation = await session.scalar(
            select(Conversation)
            .where(Conversation.person_id == person.id, Conversation.ended_at.is_(None))
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        case = None
        if conversation is not None:
            case = await session.scalar(select(Case).where(Case.conversation_id == conversation.id))
            idle = now - conversation.last_activity_at > timedelta(
                hours=self.settings.conversation_idle_hours
            )
            if case is not None and idle and case.status not in OPEN_STATUSES:
                conversation.ended_at = conversation.last_activity_at
                case.status = "closed"
                case.closed_at = conversation.last_activity_at
                case.closed_by = "idle"
                conversation = case = None
        if conversation is None or case is None:
            conversation = Conversation(
                person_id=person.id,
                person_token=person.anon_token,
                channel=person.channel,
                language=person.language,
                audience=person.audience,
                gender=person.gender,
                started_at=now,
                last_activity_at=now,
                state={},
            )
            session.add(conversation)
            await session.flush()
            case = Case(
                conversation_id=conversation.id, person_id=person.id, channel=person.channel, created_at=now
            )
            session.add(case)
            await session.flush()
        return conversation, case

    async def _persist_output(self, turn: Turn, text: str) -> None:
        session = turn.session
        offered = list(turn.state.get("offered") or [])
        for reply in turn.outcome.replies:
            session.add(
                Message(
                    conversation_id=turn.conversation.id, sender="bot", text=reply.text, created_at=turn.now
                )
            )
            for row in reply.buttons:
                for b in row:
                    if b.data not in offered:
                        offered.append(b.data)
            session.add(person_item(turn.person, reply, turn.now, turn.case.id))
        if offered != list(turn.state.get("offered") or []):
            turn.set_state(offered=offered[-MAX_OFFERED:])
        turn.conversation.language = turn.person.language
        turn.conversation.audience = turn.person.audience
        turn.conversation.gender = turn.person.gender
        self._staff_outbox(turn, text)

    def _staff_outbox(self, turn: Turn, text: str) -> None:
        session = turn.session
        staff = self.settings.staff_channel
        if staff is None:
            return
        for event in turn.outcome.events:
            session.add(staff_item(staff, "case_event", turn.now, event.case_id, event.as_dict()))
        if turn.relay_to_staff and not turn.forgotten:
            payload = {"text": text, "media": turn.inbound.media, "media_ref": turn.inbound.media_ref}
            session.add(
                staff_item(
                    staff,
                    "relay_in",
                    turn.now,
                    turn.case.id,
                    payload,
                    person_id=turn.person.id,
                    address_sealed=turn.person.address_sealed,
                )
            )

    # ---- used by flows -------------------------------------------------------------------------
    def triage(self, text: str, case: Case) -> TriageResult:
        return self.triager.analyze(triage_view(text), case_signals(case))

    async def _forget(self, turn: Turn) -> None:
        """Delete the person's messages and profile; keep only anonymous counts for the reports."""
        session = turn.session
        person = turn.person
        await session.flush()
        conv_ids = list(
            await session.scalars(select(Conversation.id).where(Conversation.person_id == person.id))
        )
        await session.execute(delete(Message).where(Message.conversation_id.in_(conv_ids)))
        for case in await session.scalars(select(Case).where(Case.conversation_id.in_(conv_ids))):
            case.signals = [{**s, "evidence": ""} for s in case.signals or ()]
            case.person_id = None
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(conv_ids), Conversation.ended_at.is_(None))
            .values(ended_at=turn.now)
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(conv_ids))
            .values(person_id=None, state={}, forgotten_at=turn.now)
        )
        # The confirmation still has to reach the person: it carries its own sealed address and
        # is not linked to the person, whose row (and pending outbox) goes now.
        for reply in turn.outcome.replies:
            session.add(person_item(person, reply, turn.now, keep_person=False))
        self._staff_outbox(turn, "")
        await session.delete(person)
        turn.outcome.person_id = None
