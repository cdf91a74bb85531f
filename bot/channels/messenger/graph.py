"""The Graph API's Send API, and what its errors mean for a delivery.

``GraphClient.send(body)`` posts one message to ``{MESSENGER_API_URL}/me/messages`` with the Page
token and returns Meta's answer (``recipient_id``, ``message_id``), or raises :class:`GraphError`
with a ``kind`` the sender acts on:

- ``rate_limit``: Meta's rate limits (codes 4, 17, 32, 613, 80006; HTTP 429). They count for the whole
  Page or app, so every send pauses (``wait``: Meta's hint from ``Retry-After`` or
  ``X-Business-Use-Case-Usage``, when it gives one).
- ``unavailable``: 5xx, codes 1, 2 and 1200 ("temporary send message failure"), network errors, an
  answer that is not JSON: this person's messages wait and are retried with backoff.
- ``window``: the message is outside the messaging window Meta allows (24 hours; 7 days for a human
  agent's reply with the HUMAN_AGENT tag).
- ``unreachable``: the person blocked the Page, deleted their account, or is unknown to this Page.
- ``auth``: the token is invalid or lacks a permission: an operator must fix it; retried slowly.
- ``refused``: Meta will never accept this message (a malformed request): given up.

Meta's error *messages* are not kept (codes are enough, and nothing of the person leaks into logs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80006})
TEMPORARY_CODES = frozenset({1, 2, 1200})
WINDOW_SUBCODES = frozenset({2018278, 2018065, 2018108, 2534022})
UNREACHABLE_SUBCODES = frozenset({1545041, 2018001, 2534014})
AUTH_CODES = frozenset({3, 10, 102, 190, 230})


@dataclass
class GraphError(Exception):
    kind: str  # rate_limit | unavailable | window | unreachable | auth | refused
    status: int = 0
    code: int | None = None
    subcode: int | None = None
    wait: float | None = None  # seconds Meta asked to wait (rate limits), when it said

    def __str__(self) -> str:
        parts = [self.kind, f"HTTP {self.status}" if self.status else "no answer"]
        if self.code is not None:
            parts.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        return " ".join(parts)


def classify(status: int, error: dict[str, Any] | None) -> str:
    code = _int(error.get("code")) if error else None
    subcode = _int(error.get("error_subcode")) if error else None
    if status == 429 or code in RATE_LIMIT_CODES:
        return "rate_limit"
    if code == 551 or subcode in UNREACHABLE_SUBCODES:
        return "unreachable"
    if subcode in WINDOW_SUBCODES:
        return "window"
    if status >= 500 or code in TEMPORARY_CODES or error is None:
        return "unavailable"
    if code in AUTH_CODES or (code is not None and 200 <= code < 300) or status in (401, 403):
        return "auth"
    return "refused"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def wait_hint(headers: Any) -> float | None:
    """Seconds to wait after a rate limit: ``Retry-After``, or the longest
    ``estimated_time_to_regain_access`` (minutes) in ``X-Business-Use-Case-Usage``."""
    raw = headers.get("Retry-After")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    usage = headers.get("X-Business-Use-Case-Usage")
    if not usage:
        return None
    try:
        data = json.loads(usage)
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in data.values()
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60.0 if longest > 0 else None


class GraphClient:
    def __init__(self, base_url: str, token: str, timeout: float = 20.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """One Send API call; returns Meta's answer or raises :class:`GraphError`."""
        return await self._call("POST", "/me/messages", body)

    async def me(self) -> dict[str, Any]:
        """Who the token belongs to (the Page): a start-up check."""
        return await self._call("GET", "/me", None, {"fields": "id,name"})

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        query = {"access_token": self.token, **(params or {})}
        try:
            async with self._client().request(
                method, self.base_url + path, params=query, json=body
            ) as response:
                raw = await response.read()
                status = response.status
                headers = response.headers
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise GraphError("unavailable") from exc
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = None  # an HTML error page from a proxy
        if status == 200 and isinstance(data, dict) and "error" not in data:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else None
        kind = classify(status, error)
        raise GraphError(
            kind,
            status=status,
            code=_int(error.get("code")) if error else None,
            subcode=_int(error.get("error_subcode")) if error else None,
            wait=wait_hint(headers) if kind == "rate_limit" else None,
        )
