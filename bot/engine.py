"""The conversation engine: one entry point for every channel.

``Engine.handle(Inbound)`` runs one transaction per message:

1. the inbox entry of the update is marked handled (a duplicate finds it done and stops here);
2. the person is found by keyed hash, their open conversation and its case are taken locked
   (a counsellor closing the case at the same moment waits, or has already closed it: then the
   message starts a new conversation and, if it is a crisis, a new case);
3. the message is stored and a flow answers it (``bot.flows``), changing the case only through the
   lifecycle (``bot.lifecycle``);
4. every reply, every case event and every message for the counsellors is written to the outbox.

Nothing is sent that was not stored first; adapters deliver the outbox.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import lifecycle, metrics, payloads, privacy
from bot.config import Settings
from bot.deliveries import CaseNote, RelayIn, ToPerson, Withdraw
from bot.domain import EventKind, Inbound, Outcome, Signal, TriageResult
from bot.flows import route
from bot.flows.base import ConversationState, Profile, QueueInfo, Turn
from bot.privacy import Pseudonymizer
from bot.storage.db import Database, retrying
from bot.storage.inbox import Inbox
from bot.storage.models import ArticleRating, Case, Conversation, Message, Person, utcnow
from bot.storage.outbox import to_person, to_staff
from bot.texts import Content

log = logging.getLogger(__name__)

MAX_STORED_CHARS = 200_000  # longer messages are cut to this before they are stored
TRIAGE_WINDOW = 6_000  # triage reads the beginning and the end of a very long message
ATTEMPTS = 5  # a turn that meets a transient database error is tried this often
CLAIM_TIMES = 20  # the queue's wait estimate: the median of this many recent claims
CLAIM_TIMES_WINDOW = timedelta(days=14)
SEEN_GRANULARITY = timedelta(hours=1)  # people.last_seen_at is kept to the hour
HISTORY = 6  # earlier messages of the conversation that triage reads with a new one


class TriagePort(Protocol):
    def analyze(
        self, text: str, prior: Sequence[Signal] = (), history: Sequence[str] = ()
    ) -> TriageResult: ...


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
        db: Database,
        content: Content,
        triager: TriagePort,
        inbox: Inbox,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.content = content
        self.triager = triager
        self.inbox = inbox
        self.pseudo = Pseudonymizer(settings.pseudonym_secret)
        self.clock = clock
        self.staff_channel = settings.staff_channel

    async def handle(self, inbound: Inbound) -> Outcome:
        """Handle one message; transient database errors are retried with backoff, then raised (the
        update stays in the inbox and is replayed)."""
        return await retrying(lambda: self._handle_once(inbound), ATTEMPTS)

    # ---- one transaction -----------------------------------------------------------------------
    async def _handle_once(self, inbound: Inbound) -> Outcome:
        now = self.clock()
        async with self.db.write() as session:
            if inbound.external_id and not await self.inbox.finish(
                session, inbound.channel, inbound.external_id
            ):
                return Outcome(duplicate=True)
            person = await self._person(session, inbound, now)
            text = clean_text(inbound.text)[:MAX_STORED_CHARS]
            button = clean_text(inbound.button)[:128] or None
            conversation, case = await self._conversation(session, person, now, button)
            conversation.message_count += 1
            conversation.last_activity_at = now
            if now - person.last_seen_at > SEEN_GRANULARITY:  # not a write on every message
                person.last_seen_at = now
            media = clean_text(inbound.media)[:32] or None
            said = {  # the person's message; stored with the replies at the end of the turn
                "conversation_id": conversation.id,
                "sender": "person",
                "text": text or None,
                "button": button,
                "media": media,
                "risk": None,
                "created_at": now,
            }
            reads = bool(text) and button is None and not text.startswith("/")
            history: Sequence[str] = []
            if reads:
                history = inbound.history[-HISTORY:] or await self._history(session, conversation)
            turn = Turn(
                content=self.content,
                profile=Profile(
                    language=person.language,
                    language_chosen=person.language_chosen,
                    audience=person.audience,
                    gender=person.gender,
                    asked_profile=person.asked_profile,
                ),
                state=ConversationState.load(conversation.state),
                case=case,
                inbound=inbound,
                text=text,
                now=now,
                first=conversation.message_count <= 1,
                triage_text=lambda t: self._triage(t, case, history),
                queue_info=lambda: self.queue_info(session, case),
            )
            await route(turn)
            if turn.triage is not None:
                said["risk"] = turn.triage.risk.value
            outcome = Outcome(
                replies=turn.replies,
                events=turn.events,
                person_id=person.id,
                conversation_id=conversation.id,
                triage=turn.triage,
            )
            if turn.forget:
                await self._forget(session, turn, person, now)
                outcome.person_id = None
            else:
                await self._store(session, turn, person, conversation, said, now)
        metrics.MESSAGES.labels(direction="in", channel=inbound.channel).inc()
        for event in outcome.events:
            if event.kind == EventKind.OPENED:
                metrics.CASES_OPENED.labels(risk=event.risk.value, channel=inbound.channel).inc()
        return outcome

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
        """The person's open conversation and its case, both locked for this transaction."""
        feedback = payloads.decode(button)
        if isinstance(feedback, payloads.CaseFeedback):
            # "Did this help?" after a counsellor closed the case: it belongs to that conversation.
            closed = await session.scalar(
                self.db.locked(select(Case).where(Case.id == feedback.case, Case.person_id == person.id))
            )
            if closed is not None:
                conversation = await session.get(Conversation, closed.conversation_id)
                if conversation is not None:
                    return conversation, closed
        # One round trip for both (a conversation and its case are always made together).
        found = (
            await session.execute(
                self.db.locked(
                    select(Conversation, Case)
                    .join(Case, Case.conversation_id == Conversation.id)
                    .where(Conversation.person_id == person.id, Conversation.ended_at.is_(None))
                    .order_by(Conversation.id.desc())
                    .limit(1)
                )
            )
        ).first()
        conversation, case = found if found is not None else (None, None)
        if conversation is not None:
            idle = now - conversation.last_activity_at > timedelta(
                hours=self.settings.conversation_idle_hours
            )
            if case is not None and idle and not lifecycle.is_open(case):
                lifecycle.close_idle(case, conversation.last_activity_at)
                conversation.ended_at = conversation.last_activity_at
                conversation = case = None
            elif case is not None and lifecycle.is_closed(case):
                conversation.ended_at = case.closed_at or now  # closed by a counsellor meanwhile
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
                conversation_id=conversation.id,
                person_id=person.id,
                channel=person.channel,
                status=lifecycle.START.value,
                created_at=now,
            )
            session.add(case)
            await session.flush()
        return conversation, case

    def _triage(self, text: str, case: Case, history: Sequence[str]) -> TriageResult:
        with metrics.TRIAGE_SECONDS.time():
            return self.triager.analyze(triage_view(text), lifecycle.signals(case), history=history)

    async def _history(self, session: AsyncSession, conversation: Conversation) -> list[str]:
        """The person's earlier words in this conversation, oldest first (triage reads a message in
        their light: "I bought a rope" after "I don't want to live")."""
        if conversation.message_count <= 1:
            return []
        rows = await session.scalars(
            select(Message.text)
            .where(
                Message.conversation_id == conversation.id,
                Message.sender == "person",
                Message.text.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(HISTORY)
        )
        return [triage_view(t) for t in reversed(list(rows))]

    async def queue_info(self, session: AsyncSession, case: Case) -> QueueInfo | None:
        """The case's place in the queue and a rough wait: the median time to claim of recent cases,
        times the cases ahead plus one."""
        if not lifecycle.is_queued(case):
            return None
        await session.flush()
        queued = list(await session.scalars(select(Case).where(Case.status == lifecycle.WAITING.value)))
        order = [c.id for c in lifecycle.queue_order(queued)]
        position = order.index(case.id) + 1 if case.id in order else len(order) + 1
        since = self.clock() - CLAIM_TIMES_WINDOW
        rows = (
            await session.execute(
                select(Case.waiting_since, Case.claimed_at)
                .where(
                    Case.claimed_at.is_not(None), Case.claimed_at >= since, Case.waiting_since.is_not(None)
                )
                .order_by(Case.claimed_at.desc())
                .limit(CLAIM_TIMES)
            )
        ).all()
        waits = [(c - w).total_seconds() / 60 for w, c in rows if c >= w]
        minutes = round(statistics.median(waits) * position) if waits else None
        return QueueInfo(position=position, minutes=minutes)

    # ---- storing what the turn made --------------------------------------------------------------
    async def _store(
        self,
        session: AsyncSession,
        turn: Turn,
        person: Person,
        conversation: Conversation,
        said: dict[str, Any],
        now: datetime,
    ) -> None:
        offered = turn.state.offered
        rows = [said]
        for reply in turn.replies:
            rows.append({**said, "sender": "bot", "text": reply.text, "button": None, "media": None})
            rows[-1]["risk"] = None
            for row in reply.buttons:
                offered.extend(b.data for b in row if b.data not in offered)
            session.add(to_person(person, ToPerson.of(reply), now, turn.case.id))
        conversation.state = turn.state.dump()
        profile = turn.profile
        person.language, person.language_chosen = profile.language, profile.language_chosen
        person.audience, person.gender, person.asked_profile = (
            profile.audience,
            profile.gender,
            profile.asked_profile,
        )
        conversation.language, conversation.audience, conversation.gender = (
            profile.language,
            profile.audience,
            profile.gender,
        )
        for article_id, helpful in turn.ratings:
            session.add(
                ArticleRating(
                    conversation_id=conversation.id, article_id=article_id, helpful=helpful, rated_at=now
                )
            )
        self._to_staff(session, turn, person, now)
        # one statement for the whole exchange (no ids needed back), after the flush of the rest
        await session.execute(insert(Message).execution_options(render_nulls=True), rows)

    def _to_staff(self, session: AsyncSession, turn: Turn, person: Person | None, now: datetime) -> None:
        """Case events and the person's words for the counsellors. Items that carry the person's
        words are linked to them, so /forget withdraws what was not delivered yet."""
        channel = self.staff_channel
        if channel is None:
            return
        person_id = person.id if person is not None else None
        for event in turn.events:
            quoted = event.kind == EventKind.OPENED or event.reason == lifecycle.Reason.RISK_RAISED
            excerpt = turn.trigger if quoted and person is not None else ""
            session.add(
                to_staff(
                    channel,
                    CaseNote.of(event, excerpt),
                    now,
                    event.case_id,
                    person_id=person_id if excerpt else None,
                )
            )
        if turn.relay_to_staff and person is not None:
            relay = RelayIn(text=turn.text, media=turn.inbound.media, media_ref=turn.inbound.media_ref)
            session.add(
                to_staff(
                    channel,
                    relay,
                    now,
                    turn.case.id,
                    person_id=person_id,
                    address_sealed=person.address_sealed,
                )
            )

    async def _forget(self, session: AsyncSession, turn: Turn, person: Person, now: datetime) -> None:
        await session.flush()
        case_ids = await privacy.forget(session, person, now)
        # The confirmation still has to reach the person: it carries its own sealed address and is
        # not linked to the person, whose row (and pending outbox) is gone now.
        for reply in turn.replies:
            session.add(to_person(person, ToPerson.of(reply), now, keep_person=False))
        self._to_staff(session, turn, None, now)
        if self.staff_channel is not None and case_ids:
            session.add(to_staff(self.staff_channel, Withdraw(cases=case_ids), now))
