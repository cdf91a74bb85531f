"""Pseudonyms, sealed delivery addresses, and /forget.

A person is known to the database only by a keyed hash (HMAC-SHA256) of their channel id, so a dump
of the database does not reveal who wrote. To write back later (a counsellor's answer) the bot needs
the chat address; it is kept sealed (Fernet, key derived from the same secret), is cleared from each
outbox row once that row is delivered, and is deleted by /forget.

``forget`` deletes a person's messages, profile, pending deliveries and triage labels, strips the
quoted evidence from their cases' risk signals, and keeps only anonymous facts for the reports
(category, who wrote, channel, dates) under a random token that cannot be linked back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Case, Conversation, Message, Person, TriageLabel
from bot.storage.outbox import withdraw_for_person


class Pseudonymizer:
    def __init__(self, secret: str) -> None:
        key = secret.encode()
        self._hash_key = hmac.new(key, b"helpline/pseudonym/v1", hashlib.sha256).digest()
        seal_key = hmac.new(key, b"helpline/address-seal/v1", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(seal_key))

    def pseudonym(self, channel: str, user_id: str) -> str:
        """Stable keyed hash of a channel's user id (hex, 64 characters)."""
        msg = f"{channel}\x00{user_id}".encode()
        return hmac.new(self._hash_key, msg, hashlib.sha256).hexdigest()

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def unseal(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None


async def forget(session: AsyncSession, person: Person, now: datetime) -> list[int]:
    """Inside the /forget turn's transaction: delete everything that identifies ``person``.

    Returns the ids of the person's cases (the staff side withdraws their words from those).
    The caller has already run the case's lifecycle transition and queued the confirmation.
    """
    conv_ids = list(await session.scalars(select(Conversation.id).where(Conversation.person_id == person.id)))
    await session.execute(delete(Message).where(Message.conversation_id.in_(conv_ids)))
    case_ids: list[int] = []
    for case in await session.scalars(select(Case).where(Case.conversation_id.in_(conv_ids))):
        case.signals = [{**s, "evidence": ""} for s in case.signals or ()]
        case.person_id = None
        case_ids.append(case.id)
    await session.execute(delete(TriageLabel).where(TriageLabel.person_id == person.id))
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conv_ids), Conversation.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conv_ids))
        .values(person_id=None, state={}, forgotten_at=now)
    )
    await withdraw_for_person(session, [person.id])
    await session.delete(person)
    return case_ids
