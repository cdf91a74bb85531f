"""Pseudonyms and sealed delivery addresses.

A person is known to the database only by a keyed hash (HMAC-SHA256) of their channel id, so a dump
of the database does not reveal who wrote. To write back later (a counsellor's answer, a reminder),
the bot needs the chat address; it is kept sealed (Fernet, key derived from the same secret) and is
deleted by /forget.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


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

    def log_ref(self, value: str | int) -> str:
        """A short non-reversible reference for logs (never log ids in clear)."""
        return self.pseudonym("log", str(value))[:10]
