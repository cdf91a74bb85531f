"""Counsellors' replies (and everything else that waits for a person on channel ``rasa`` outside an
action) reach the person through Rasa's HTTP API: the documented external-events route

    POST {RASA_URL}/conversations/{sender_id}/trigger_intent?output_channel=latest&token=...
    {"name": "EXTERNAL_helpline_counsellor_message",
     "entities": {"helpline_message": "<text>", "helpline_buttons": [{"title", "payload"}]}}

and the assistant's rule answers it (README: the domain, rule and response it needs).

- From the durable outbox: an item is marked sent only after Rasa answered 200. A network error,
  5xx, 409 (no model loaded), 429, 401/403 (wrong token) or 400/404 (the intent is not in the
  domain) is retried with backoff, for as long as it takes unless ``OUTBOX_MAX_ATTEMPTS`` says
  otherwise (then the counsellors are told the message did not reach the person).
- One process sends (``Leadership("sender:rasa")``); it takes back every lease when it starts.
- A person's messages go out one after another, each after the last one's acknowledgement; when one
  fails, the person's next ones wait with it.
- The bot's own replies to an action are taken by the action itself (``RasaTurns.take``) within
  moments; the sender leaves such replies alone for ``grace`` seconds so the two never race.
  Counsellors' words go out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from sqlalchemy import select

from bot.app import App
from bot.channels.rasa import BUTTONS_ENTITY, CHANNEL, INTENT, MESSAGE_ENTITY
from bot.channels.rasa.turns import message_of
from bot.deliveries import StaffNotice, ToPerson
from bot.jobs import Leadership, describe, start_supervised
from bot.storage.models import OutboxItem, utcnow
from bot.storage.outbox import Delivery, backoff

log = logging.getLogger(__name__)

GRACE = 3.0  # seconds the bot's own replies are left to the action that made them
POLL = 1.0
BATCH = 100
CONCURRENCY = 8  # people served at once
TIMEOUT = 30.0


class Refused(Exception):
    """Rasa answered but did not take the message (its status tells why)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"rasa answered {status}")
        self.status = status


class RasaSender:
    def __init__(
        self,
        app: App,
        *,
        url: str | None = None,
        token: str | None = None,
        output_channel: str | None = None,
        grace: float = GRACE,
        poll: float = POLL,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        timeout: float = TIMEOUT,
    ) -> None:
        settings = app.settings
        self.app = app
        self.url = (url or settings.rasa_url or "").rstrip("/")
        if not self.url:
            raise ValueError("RASA_URL is required")
        self.token = token if token is not None else settings.rasa_token
        self.output_channel = output_channel or settings.rasa_output_channel
        self.grace = grace
        self.poll = poll
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.leader = Leadership(app.db, "sender:rasa")
        self.stats = {"sent": 0, "retried": 0, "dead": 0}
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._leading = False

    def wake(self) -> None:
        self._wake.set()

    # ---- the loop ---------------------------------------------------------------------------------
    async def forever(self) -> None:
        """Send while this process holds the leadership (under ``supervise``)."""
        try:
            while True:
                busy = await self.round()
                self.app.health.beat("rasa-sender")
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll)
                    self._wake.clear()
        finally:
            await self.close()

    async def round(self) -> bool:
        """One batch; True if there may be more due now."""
        if not await self.leader.acquire():
            self._leading = False
            return False
        if not self._leading:
            self._leading = True
            await self.app.outbox.reclaim(CHANNEL)
        batch = await self.app.outbox.due(CHANNEL, limit=BATCH, target="person")
        if not batch:
            return False
        ages = await self._created(batch)
        now = utcnow()
        people: OrderedDict[str | None, list[Delivery]] = OrderedDict()
        for item in batch:
            people.setdefault(item.address, []).append(item)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def serve(address: str | None, items: list[Delivery]) -> None:
            async with slots:
                await self._person(address, items, ages, now)

        await asyncio.gather(*(serve(a, items) for a, items in people.items()))
        return len(batch) == BATCH

    async def _created(self, batch: list[Delivery]) -> dict[int, datetime]:
        async with self.app.db.read() as session:
            rows = await session.execute(
                select(OutboxItem.id, OutboxItem.created_at).where(OutboxItem.id.in_([i.id for i in batch]))
            )
            return {item_id: created for item_id, created in rows.all()}

    def _young(self, item: Delivery, created: datetime | None, now: datetime) -> float:
        """Seconds to leave the bot's own reply to the action that made it (0: send now)."""
        payload = item.payload
        if created is None or not isinstance(payload, ToPerson) or payload.relay:
            return 0.0
        return max(0.0, self.grace - (now - created).total_seconds())

    async def _person(
        self, address: str | None, items: list[Delivery], ages: dict[int, datetime], now: datetime
    ) -> None:
        """One person's items in order; the first that cannot go now holds the rest back with it."""
        for index, item in enumerate(items):
            rest = [other.id for other in items[index + 1 :]]
            wait = self._young(item, ages.get(item.id), now)
            if wait > 0:
                await self.app.outbox.defer([item.id, *rest], wait)
                self._later(wait)
                return
            if address is None:
                await self.app.outbox.dead(item.id, "no address")
                continue
            message = message_of(item.payload)
            if message is None:
                await self.app.outbox.dead(item.id, f"not for a person: {item.kind}")
                continue
            try:
                status = await self._trigger(address, message)
            except Exception as exc:
                await self._failed(item, rest, exc)
                return
            await self.app.outbox.sent_many([(item.id, {"status": status})])
            self.stats["sent"] += 1

    async def _failed(self, item: Delivery, rest: list[int], exc: Exception) -> None:
        if isinstance(exc, Refused):
            error = f"rasa answered {exc.status}"
            if exc.status in (401, 403):
                log.error(
                    "Rasa refused the token (%s): check RASA_TOKEN (--auth-token of rasa run)", exc.status
                )
            elif exc.status in (400, 404, 422):
                log.error(
                    "Rasa refused the external event (%s): is %s in the assistant's domain?",
                    exc.status,
                    INTENT,
                )
            else:
                log.warning("outbox item %s not delivered: Rasa is not ready (%s)", item.id, exc.status)
        else:
            error = f"Rasa unreachable: {describe(exc)}"
            log.warning("outbox item %s not delivered: %s", item.id, error)
        delay = backoff(item.attempts, self.backoff_base, self.backoff_cap)
        max_attempts = self.app.settings.outbox_max_attempts
        try:
            if max_attempts and item.attempts >= max_attempts:
                await self.app.outbox.dead(item.id, f"gave up after {item.attempts} attempts: {error}")
                self.stats["dead"] += 1
                await self._tell_staff(item)
                delay = 0.0
            else:
                await self.app.outbox.retry(item.id, delay, error)
                self.stats["retried"] += 1
            await self.app.outbox.defer(rest, delay)
        except Exception as exc2:  # the leases bring them back anyway
            log.error("could not reschedule Rasa deliveries: %s", describe(exc2))
        self._later(delay)

    async def _tell_staff(self, item: Delivery) -> None:
        lang = self.app.settings.telegram_staff_language
        text = self.app.content.t("rasa.undeliverable", lang, case=item.case_id or "?")
        await self.app.outbox.enqueue_staff(
            self.app.settings.staff_channel, StaffNotice(text=text), case_id=item.case_id
        )

    def _later(self, delay: float) -> None:
        asyncio.get_running_loop().call_later(max(0.0, delay) + 0.01, self._wake.set)

    # ---- Rasa's HTTP API --------------------------------------------------------------------------
    async def _trigger(self, address: str, message: dict[str, Any]) -> int:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        params = {"output_channel": self.output_channel, "include_events": "NONE"}
        if self.token:
            params["token"] = self.token
        entities: dict[str, Any] = {MESSAGE_ENTITY: message["text"]}
        if message.get("buttons"):
            entities[BUTTONS_ENTITY] = message["buttons"]
        url = f"{self.url}/conversations/{quote(address, safe='')}/trigger_intent"
        async with self._session.post(
            url, params=params, json={"name": INTENT, "entities": entities}
        ) as resp:
            await resp.read()
            if resp.status != 200:
                raise Refused(resp.status)
            return resp.status

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.leader.release()
        self._leading = False


class RasaChannel:
    """``python -m bot run`` with ``RASA_URL``: the sender, under ``supervise`` (the action server
    itself is ``python -m bot rasa-actions``)."""

    def __init__(self, app: App, **options: Any) -> None:
        self.app = app
        self.sender = RasaSender(app, **options)
        self._task: asyncio.Task[None] | None = None

    def attach(self, http: Any) -> None:  # nothing comes in over the bot's HTTP server
        return None

    async def start(self) -> None:
        self._task = start_supervised("rasa-sender", self.sender.forever, self.app.health)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
            self.app.health.unregister("rasa-sender")
        await self.sender.close()

    def wake(self) -> None:
        self.sender.wake()
