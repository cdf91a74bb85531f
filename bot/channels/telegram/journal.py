"""Every incoming update is written to the database before it is handled.

``UpdatePipeline.accept`` journals an update (keyed by its update_id) and queues it; a duplicate
delivery is dropped there. Updates of one chat are handled one after another, in order; different
chats at the same time. The polling loop confirms an update to Telegram only after ``accept``
returned, and the webhook answers 200 only then, so an update is either in the journal or still
with Telegram. On start, updates journalled but never finished (a crash mid-way) are replayed.

Updates the engine handles are marked done by the engine, in its own transaction; everything else
(staff actions, group chatter, service updates) is marked done here once handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.types import Update
from pydantic import ValidationError

from bot.channels.telegram.sender import describe

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

CHANNEL = "telegram"


@dataclass
class Ticket:
    """Passed to the handlers as ``journal_ticket``; ``engine_done`` once the engine has the update."""

    update_id: int
    replayed: bool = False
    engine_done: bool = False


def chat_key(update: Update) -> Hashable:
    """Updates with the same key are handled in order: a private chat, or one person in a group."""
    message = update.message
    if message is not None:
        if message.chat.type == "private":
            return message.chat.id
        sender = message.from_user.id if message.from_user else 0
        return (message.chat.id, sender)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type == "private":
            return chat.id if chat is not None else query.from_user.id
        return (chat.id, query.from_user.id)
    return ("update", update.update_id)


class UpdatePipeline:
    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.engine = channel.app.engine
        self.options = channel.options
        self._queues: dict[Hashable, deque[tuple[Update, bool]]] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._inflight: set[int] = set()
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = {"accepted": 0, "duplicates": 0, "replayed": 0, "failed": 0}

    # ---- intake --------------------------------------------------------------------------------
    async def accept(self, update: Update) -> bool:
        """Journal ``update`` and queue it for handling. False if it was a duplicate (dropped).

        Raises if the journal cannot be written: the caller must not confirm the update then.
        """
        if update.update_id in self._inflight:
            self.stats["duplicates"] += 1
            return False
        payload = update.model_dump(mode="json", exclude_none=True, by_alias=True)
        fresh = await self.engine.journal(CHANNEL, str(update.update_id), payload)
        if not fresh or update.update_id in self._inflight:
            self.stats["duplicates"] += 1
            log.info("duplicate update dropped")
            return False
        self.stats["accepted"] += 1
        self._schedule(update, replayed=False)
        return True

    async def accept_many(self, updates: list[Update]) -> int:
        """``accept`` for a getUpdates batch: one journal transaction. Returns how many were new."""
        batch: list[Update] = []
        seen: set[int] = set()
        for update in updates:
            if update.update_id in self._inflight or update.update_id in seen:
                self.stats["duplicates"] += 1
                continue
            seen.add(update.update_id)
            batch.append(update)
        if not batch:
            return 0
        fresh = await self.engine.journal_many(
            CHANNEL,
            [(str(u.update_id), u.model_dump(mode="json", exclude_none=True, by_alias=True)) for u in batch],
        )
        accepted = 0
        for update in batch:
            if str(update.update_id) not in fresh or update.update_id in self._inflight:
                self.stats["duplicates"] += 1
                continue
            accepted += 1
            self._schedule(update, replayed=False)
        self.stats["accepted"] += accepted
        return accepted

    async def replay(self) -> int:
        """Handle what a previous run journalled but never finished; returns how many."""
        seen: set[str] = set()
        count = 0
        while True:
            rows = [
                r for r in await self.engine.pending_journal(CHANNEL, limit=100) if r.external_id not in seen
            ]
            if not rows:
                break
            for row in rows:
                seen.add(row.external_id)
                try:
                    update = Update.model_validate(row.payload or {}, context={"bot": self.channel.bot})
                except ValidationError:
                    await self.engine.finish_journal(CHANNEL, row.external_id, error="unreadable update")
                    continue
                if update.update_id in self._inflight:
                    continue
                self._schedule(update, replayed=True)
                count += 1
            await self.drain()
        if count:
            log.info("replayed %d update(s) left unfinished by the last run", count)
        self.stats["replayed"] += count
        return count

    def _schedule(self, update: Update, replayed: bool) -> None:
        self._inflight.add(update.update_id)
        self._idle.clear()
        key = chat_key(update)
        self._queues.setdefault(key, deque()).append((update, replayed))
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._drain_chat(key), name="telegram-chat")

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until every queued update is handled. False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._queues.clear()
        self._inflight.clear()
        self._idle.set()

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    # ---- handling ------------------------------------------------------------------------------
    async def _drain_chat(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update, replayed = queue[0]
                async with self._slots:
                    await self._process(update, replayed)
                queue.popleft()
                self._inflight.discard(update.update_id)
        finally:
            self._tasks.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            if not self._tasks:
                self._idle.set()

    async def _process(self, update: Update, replayed: bool) -> None:
        ticket = Ticket(update.update_id, replayed=replayed)
        attempts = max(1, self.options.handle_retries)
        for attempt in range(attempts):
            try:
                await self.channel.dispatcher.feed_update(self.channel.bot, update, journal_ticket=ticket)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error(
                    "handling an update failed (attempt %d of %d): %s", attempt + 1, attempts, describe(exc)
                )
                if ticket.engine_done:
                    break  # the engine has it; what failed came after (e.g. answering a button)
                if attempt + 1 == attempts:
                    await self._give_up(update, ticket)
                    return
                await asyncio.sleep(self.options.handle_backoff * 2**attempt)
        if not ticket.engine_done:
            try:
                await self.engine.finish_journal(CHANNEL, str(update.update_id))
            except Exception as exc:  # it is replayed on the next start and then found handled or not
                log.error("could not mark an update handled: %s", describe(exc))

    async def _give_up(self, update: Update, ticket: Ticket) -> None:
        """Handling failed every time. A fresh update stays in the journal for the next start; a
        replayed one is marked failed (it failed twice over). Either way the person hears from us."""
        self.stats["failed"] += 1
        try:
            if ticket.replayed:
                await self.engine.finish_journal(CHANNEL, str(update.update_id), error="handling failed")
            await self.channel.tell_person_error(update)
        except Exception as exc:
            log.error("could not record a failed update: %s", describe(exc))
