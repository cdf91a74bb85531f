"""Session tokens of the web chat: anonymous, random, and the only thing that identifies a person.

A token is ``<random>.<issued>.<tag>``: 18 random bytes, the time it was issued (base 36 seconds)
and a keyed tag (HMAC of the first two parts with a key derived from ``PSEUDONYM_SECRET``), so a
token this server never issued is recognised at once. The browser keeps it in localStorage and sends
it in its ``hello``; the engine knows the person only by the keyed hash of the token (like any other
channel id) and writes back to the token as the person's address.

A token is valid while it was issued, or its person last wrote, within ``WEBCHAT_SESSION_HOURS``.
A wrong or expired token starts a new anonymous session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import Conversation, Person, utcnow

CHANNEL = "webchat"
TOKEN_RE = re.compile(r"([A-Za-z0-9_-]{24})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})")
MAX_TOKEN = 64


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


class Sessions:
    def __init__(
        self,
        db: Database,
        secret: str,
        pseudonym: Callable[[str, str], str],
        ttl_hours: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self._key = hmac.new(secret.encode(), b"helpline/webchat-session/v1", hashlib.sha256).digest()
        self._ids = hmac.new(secret.encode(), b"helpline/webchat-message-id/v1", hashlib.sha256).digest()
        self._pseudonym = pseudonym
        self.ttl = timedelta(hours=ttl_hours)
        self.clock = clock

    def _tag(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> str:
        random_part = secrets.token_urlsafe(18)
        body = f"{random_part}.{_b36(int(self.clock().timestamp()))}"
        return f"{body}.{self._tag(body)}"

    def issued_at(self, token: object) -> datetime | None:
        """When a token of this server was issued; None for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN:
            return None
        match = TOKEN_RE.fullmatch(token)
        if match is None:
            return None
        body = f"{match.group(1)}.{match.group(2)}"
        if not hmac.compare_digest(self._tag(body), match.group(3)):
            return None
        try:
            return datetime.fromtimestamp(int(match.group(2), 36), UTC)
        except (OverflowError, OSError, ValueError):
            return None

    async def last_seen(self, token: str) -> datetime | None:
        """When the person of this token last wrote (None: no such person, or forgotten): their
        conversations' last activity, set on every message (``people.last_seen_at`` is kept only to
        the hour)."""
        async with self.db.read() as session:
            return await session.scalar(
                select(func.max(Conversation.last_activity_at))
                .join(Person, Conversation.person_id == Person.id)
                .where(Person.channel == CHANNEL, Person.pseudonym == self._pseudonym(CHANNEL, token))
            )

    async def valid(self, token: object) -> bool:
        issued = self.issued_at(token)
        if issued is None:
            return False
        horizon = self.clock() - self.ttl
        if issued >= horizon:
            return True
        assert isinstance(token, str)
        seen = await self.last_seen(token)
        return seen is not None and seen >= horizon

    def external_id(self, token: str, message_id: str) -> str:
        """The inbox id of a message: a keyed hash of the session and the browser's message id (the
        token itself is never stored in clear); the same message sent twice has the same id."""
        return "w" + hmac.new(self._ids, f"{token}\x00{message_id}".encode(), hashlib.sha256).hexdigest()[:40]
