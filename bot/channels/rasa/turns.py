"""One engine turn per action call, and the answer that goes back to Rasa (no rasa-sdk import here).

:class:`RasaTurns` is what the actions call:

1. the call is recorded in the inbox (keyed by a keyed hash of the conversation, the message and the
   action), so a call Rasa repeats is handled once and a call that fails half-way is replayed
   (:meth:`RasaTurns.replay`);
2. the engine handles ``Inbound(channel="rasa", user_id=<sender_id>, ...)`` like any channel's message:
   the case lifecycle, the crisis protocol and storage are the core's;
3. what now waits in the outbox for this person is taken at once (:meth:`RasaTurns.take`: marked
   sent in the same transaction) and becomes the action's responses; anything that is being delivered
   through Rasa's HTTP API at that moment is left to the sender, so nothing goes out twice;
4. the slots tell the assistant what the helpline found (risk, category, topics, escalate, language).

If the database is away, the person still hears where help is (116111, 112) and the call stays in
the inbox until it can be handled; its answer then goes out through Rasa's HTTP API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from bot import lifecycle
from bot.app import App
from bot.channels.rasa import (
    CHANNEL,
    SLOT_CATEGORY,
    SLOT_ESCALATE,
    SLOT_LANGUAGE,
    SLOT_RISK,
    SLOT_TOPIC,
    SLOT_TOPICS,
    SLOTS,
)
from bot.channels.rasa.calls import Call, button_payload
from bot.deliveries import MediaToPerson, ToPerson, decode
from bot.domain import DEFAULT_LANGUAGE, LANGUAGES, Inbound, Outcome, Risk
from bot.flows.base import ConversationState
from bot.jobs import describe
from bot.payloads import ArticleStep, Forget, Human, Topics
from bot.storage.models import Case, Conversation, OutboxItem, Person, utcnow
from bot.storage.outbox import PENDING, SENT

log = logging.getLogger(__name__)

TAKE_TRIES = 40  # an item the sender holds for a moment (it is too young to send) is waited for
TAKE_PAUSE = 0.05
TAKE_LIMIT = 100
REPLAY_BATCH = 50
SINCE_SLACK = timedelta(seconds=2)  # clocks of the database and this process may differ a little


@dataclass
class ActionReply:
    """What an action returns to Rasa: messages (rasa-sdk's ``utter_message`` arguments) and slots."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    handled: bool = True  # False: the engine could not handle it now (kept for replay)


def message_of(payload: Any) -> dict[str, Any] | None:
    """A delivery to a person as a Rasa response: text and buttons (a button sends its payload back)."""
    if isinstance(payload, ToPerson):
        buttons = [{"title": b.text, "payload": button_payload(b.data)} for b in payload.flat_buttons()]
        return {"text": payload.text, "buttons": buttons}
    if isinstance(payload, MediaToPerson):  # a counsellor's file from Telegram: its label, as text
        return {"text": payload.label, "buttons": []}
    return None


class RasaTurns:
    def __init__(self, app: App, clock: Callable[[], datetime] = utcnow) -> None:
        self.app = app
        self.clock = clock
        self._inflight: set[str] = set()

    # ---- the actions ----------------------------------------------------------------------------
    async def triage(self, call: Call) -> ActionReply:
        """The latest user message, as words (a helpline button is a button press)."""
        return await self.turn(call, text=call.text if call.button is None else None, button=call.button)

    async def handoff(self, call: Call) -> ActionReply:
        return await self.turn(call, button=Human().encode())

    async def forget(self, call: Call) -> ActionReply:
        """/forget: the engine asks to confirm (its buttons come back through ``action_helpline_button``)."""
        return await self.turn(call, button=Forget().encode())

    async def button(self, call: Call) -> ActionReply:
        if call.button is None:
            return await self.turn(call, text=call.text)
        return await self.turn(call, button=call.button)

    async def selfhelp(self, call: Call) -> ActionReply:
        """The article for the topic the assistant names (slot ``helpline_topic``) or for the topics the
        triage found (``helpline_topics``). It opens where the conversation offered it (the triage's
        answer does); otherwise the person gets the list of topics to choose from."""
        topics = _topics(call.slot(SLOT_TOPIC)) or _topics(call.slot(SLOT_TOPICS))
        article = self.app.content.article_for_topics(topics)
        button = Topics().encode()
        if article is not None:
            start = ArticleStep(article.id, 0).encode()
            if await self._offered(call.sender_id, start):
                button = start
        return await self.turn(call, button=button)

    # ---- one turn --------------------------------------------------------------------------------
    def external_id(self, call: Call) -> str:
        """The inbox key of a call: the same call repeated by Rasa has the same key; the next action
        after the same message (more events since it) has another."""
        raw = f"{call.sender_id}\x1f{call.message_key}\x1f{call.action}\x1f{call.position}"
        return self.app.pseudo.pseudonym("rasa:action", raw)

    async def turn(self, call: Call, text: str | None = None, button: str | None = None) -> ActionReply:
        external_id = self.external_id(call)
        inbound = Inbound(
            channel=CHANNEL,
            user_id=call.sender_id,
            address=call.sender_id,
            text=text,
            button=button,
            language_hint=call.language_hint,
            external_id=external_id,
            history=tuple(call.history),
        )
        started = self.clock() - SINCE_SLACK
        record = {
            "v": 1,
            "sender_id": call.sender_id,
            "text": text,
            "button": button,
            "lang": call.language_hint,
            "history": list(call.history),
        }
        try:
            fresh = await self.app.inbox.record(CHANNEL, [(external_id, record)])
        except Exception as exc:
            log.error("a Rasa action could not be recorded: %s", describe(exc))
            return self.fallback(call)
        outcome: Outcome | None = None
        if external_id in fresh:
            self._inflight.add(external_id)
            try:
                outcome = await self.app.engine.handle(inbound)
            except Exception as exc:
                log.error("a Rasa action could not be handled (kept for replay): %s", describe(exc))
                return self.fallback(call)
            finally:
                self._inflight.discard(external_id)
        try:
            handled = outcome is not None and not outcome.duplicate
            forgotten = handled and outcome is not None and outcome.person_id is None
            person_id = (
                outcome.person_id
                if handled and outcome is not None
                else await self._person_id(call.sender_id)
            )
            messages = await self.take(call.sender_id, None if forgotten else person_id, started)
            if forgotten:
                slots: dict[str, Any] = dict.fromkeys(SLOTS)
            else:
                slots = await self._slots(outcome, person_id)
        except Exception as exc:  # the turn is stored; its answer goes out through Rasa's HTTP API
            log.error("a Rasa action's answer could not be taken: %s", describe(exc))
            return self.fallback(call, handled=True)
        return ActionReply(messages=messages, slots=slots)

    def fallback(self, call: Call, handled: bool = False) -> ActionReply:
        """Without the database: where help is (116111, 112), in the person's language if known."""
        lang = call.language_hint if call.language_hint in LANGUAGES else DEFAULT_LANGUAGE
        return ActionReply(
            messages=[{"text": self.app.content.t("error.internal", lang), "buttons": []}], handled=handled
        )

    # ---- taking what waits for the person ----------------------------------------------------------
    async def take(self, sender_id: str, person_id: int | None, since: datetime) -> list[dict[str, Any]]:
        """What waits for this person, oldest first, marked sent: the turn's replies and anything
        older that has not reached them yet (a counsellor's words while Rasa was away).

        ``person_id`` None: the person has just been forgotten; their confirmation waits without a
        person, under their sealed address. An older item the sender is delivering is left to it; a
        reply of this turn that it holds for a moment (too young to send) is waited for, so the
        turn's replies keep their order.
        """
        messages: list[dict[str, Any]] = []
        for _ in range(TAKE_TRIES):
            taken, wait = await self._take_once(sender_id, person_id, since)
            messages.extend(taken)
            if not wait:
                break
            await asyncio.sleep(TAKE_PAUSE)
        return messages

    async def _take_once(
        self, sender_id: str, person_id: int | None, since: datetime
    ) -> tuple[list[dict[str, Any]], bool]:
        app = self.app
        now = self.clock()
        orphan = and_(OutboxItem.person_id.is_(None), OutboxItem.created_at >= since)
        whose = orphan if person_id is None else or_(OutboxItem.person_id == person_id, orphan)
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.channel == CHANNEL,
                OutboxItem.target == "person",
                OutboxItem.status == PENDING,
                whose,
            )
            .order_by(OutboxItem.id)
            .limit(TAKE_LIMIT)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(of=OutboxItem)
        messages: list[dict[str, Any]] = []
        async with app.db.write() as session:
            for item in await session.scalars(query):
                if item.person_id is None:
                    address = app.pseudo.unseal(item.address_sealed) if item.address_sealed else None
                    if address != sender_id:
                        continue
                if item.leased_until is not None and item.leased_until > now:
                    if item.created_at >= since:  # this turn's reply, held by the sender for a moment
                        return messages, True
                    continue  # an older one on its way through Rasa's HTTP API: the sender's
                try:
                    message = message_of(decode(item.kind, item.payload))
                except (TypeError, ValueError):
                    message = None
                if message is None:
                    continue
                item.status = SENT
                item.sent_at = now
                item.attempts += 1
                item.result = {"via": "action"}
                item.address_sealed = None
                item.leased_until = None
                messages.append(message)
        return messages, False

    # ---- reading the person's state ----------------------------------------------------------------
    async def _person_id(self, sender_id: str) -> int | None:
        pseudonym = self.app.pseudo.pseudonym(CHANNEL, sender_id)
        async with self.app.db.read() as session:
            return await session.scalar(
                select(Person.id).where(Person.channel == CHANNEL, Person.pseudonym == pseudonym)
            )

    async def _offered(self, sender_id: str, data: str) -> bool:
        """Did this conversation offer the button (the engine honours only buttons it offered)?"""
        person_id = await self._person_id(sender_id)
        if person_id is None:
            return False
        async with self.app.db.read() as session:
            state = await session.scalar(
                select(Conversation.state)
                .where(Conversation.person_id == person_id, Conversation.ended_at.is_(None))
                .order_by(Conversation.id.desc())
                .limit(1)
            )
        return data in ConversationState.load(state).offered

    async def _slots(self, outcome: Outcome | None, person_id: int | None) -> dict[str, Any]:
        """The case as it stands after the turn (risk only goes up), and the person's language."""
        if person_id is None:
            return {}
        async with self.app.db.read() as session:
            person = await session.get(Person, person_id)
            query = select(Case).where(Case.person_id == person_id).order_by(Case.id.desc()).limit(1)
            if outcome is not None and outcome.conversation_id is not None:
                query = select(Case).where(Case.conversation_id == outcome.conversation_id)
            case = await session.scalar(query)
        risk = Risk.max(lifecycle.risk(case) if case is not None else None)
        triage = outcome.triage if outcome is not None else None
        if triage is not None:
            risk = Risk.max(risk, triage.risk)
        slots: dict[str, Any] = {
            SLOT_RISK: risk.value,
            SLOT_ESCALATE: risk.escalates,
            SLOT_LANGUAGE: (person.language if person is not None else None) or DEFAULT_LANGUAGE,
        }
        if triage is not None:
            slots[SLOT_CATEGORY] = triage.category.value
            slots[SLOT_TOPICS] = list(triage.topics)
        return slots

    # ---- replay -----------------------------------------------------------------------------------
    async def replay(self) -> int:
        """Handle calls recorded but never handled (the database was away); their answers wait in the
        outbox and go out through Rasa's HTTP API."""
        rows = await self.app.inbox.take_pending(CHANNEL, limit=REPLAY_BATCH, exclude=set(self._inflight))
        handled = 0
        for external_id, record in rows:
            inbound = _inbound(external_id, record)
            if inbound is None:
                await self.app.inbox.finish_alone(CHANNEL, external_id, error="unreadable action call")
                continue
            try:
                await self.app.engine.handle(inbound)
            except Exception as exc:
                log.error("replaying a Rasa action failed (tried again later): %s", describe(exc))
                continue
            handled += 1
        if handled:
            log.info("replayed %d Rasa action call(s)", handled)
        return handled


def _inbound(external_id: str, record: Any) -> Inbound | None:
    if not isinstance(record, dict) or not isinstance(record.get("sender_id"), str):
        return None
    text, button, lang = record.get("text"), record.get("button"), record.get("lang")
    if not all(v is None or isinstance(v, str) for v in (text, button, lang)):
        return None
    return Inbound(
        channel=CHANNEL,
        user_id=record["sender_id"],
        address=record["sender_id"],
        text=text,
        button=button,
        language_hint=lang,
        external_id=external_id,
        history=tuple(h for h in record.get("history") or () if isinstance(h, str)),
    )


def _topics(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [v for v in value if isinstance(v, str) and v]
    return []
