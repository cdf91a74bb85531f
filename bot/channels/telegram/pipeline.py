"""Every incoming update is written to the inbox before it is handled.

``UpdatePipeline.accept_many`` records updates (keyed by update_id) and queues the new ones; a
duplicate delivery is dropped there. Updates of one chat are handled one after another, in order;
different chats at the same time. The polling loop confirms updates to Telegram only after they are
recorded, and the webhook answers 200 only then, so an update is either in the inbox or still with
Telegram.

Handling marks the update done in the same transaction as its effect (the engine's turn, a
counsellor's action); anything else (group chatter, service updates) is marked done here. An update
that could not be handled (the database away for a while) stays in the inbox and is replayed by
``replay_loop`` every few seconds while the bot runs, for as long as it takes; meanwhile the person
hears, without the database, where help is (116111, 112).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bot.channels.ordered import OrderedWork
from bot.jobs import describe

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

CHANNEL = "telegram"
FALLBACK_EVERY = 300.0  # the static "116111 / 112" answer at most this often per chat


@dataclass
class Ticket:
    """Passed to the handlers as ``journal_ticket``; ``done`` once the update's effect is stored."""

    update_id: int
    replayed: bool = False
    done: bool = False

    @property
    def external_id(self) -> str:
        return str(self.update_id)


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


def private_chat(update: Update) -> tuple[int, str | None] | None:
    """(chat id, language code) of a person's private chat, if the update comes from one."""
    message = update.message
    query = update.callback_query
    chat = message.chat if message is not None else (query.message.chat if query and query.message else None)
    user = message.from_user if message is not None else (query.from_user if query else None)
    if chat is None or chat.type != "private":
        return None
    return chat.id, (user.language_code if user else None)


def _update_id(item: tuple[Update, bool]) -> int:
    return item[0].update_id


class UpdatePipeline:
    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.inbox = channel.app.inbox
        self.options = channel.options
        # one chat's updates in order, chats side by side; inflight: update ids
        self._work: OrderedWork[tuple[Update, bool]] = OrderedWork(
            self._handle, _update_id, self.options.concurrency, "telegram-chat"
        )
        self._told: dict[int, float] = {}
        self.stats = {"accepted": 0, "duplicates": 0, "replayed": 0, "failed": 0}

    # ---- intake --------------------------------------------------------------------------------
    async def accept(self, update: Update) -> bool:
        """Record ``update`` and queue it for handling. False if it was a duplicate (dropped).

        Raises if the inbox cannot be written: the caller must not confirm the update then.
        """
        return await self.accept_many([update]) == 1

    async def accept_many(self, updates: list[Update]) -> int:
        """``accept`` for a getUpdates batch: one inbox transaction. Returns how many were new."""
        batch: list[Update] = []
        seen: set[int] = set()
        for update in updates:
            if update.update_id in self._work.inflight or update.update_id in seen:
                self.stats["duplicates"] += 1
                continue
            seen.add(update.update_id)
            batch.append(update)
        if not batch:
            return 0
        fresh = await self.inbox.record(
            CHANNEL,
            [(str(u.update_id), u.model_dump(mode="json", exclude_none=True, by_alias=True)) for u in batch],
        )
        accepted = 0
        for update in batch:
            if str(update.update_id) not in fresh or update.update_id in self._work.inflight:
                self.stats["duplicates"] += 1
                continue
            accepted += 1
            self._schedule(update, replayed=False)
        self.stats["accepted"] += accepted
        return accepted

    async def replay(self) -> int:
        """Queue what was recorded but never finished (a crash, a database outage); returns how many.

        Each entry is taken for a while in the inbox, so another replica does not replay it too."""
        busy = {str(i) for i in self._work.inflight}
        rows = await self.inbox.take_pending(CHANNEL, limit=200, exclude=busy)
        count = 0
        for external_id, payload in rows:
            try:
                update = Update.model_validate(payload or {}, context={"bot": self.channel.bot})
            except ValidationError:
                await self.inbox.finish_alone(CHANNEL, external_id, error="unreadable update")
                continue
            if update.update_id in self._work.inflight:
                continue
            self._schedule(update, replayed=True)
            count += 1
        if count:
            log.info("replaying %d update(s) recorded but not handled", count)
        self.stats["replayed"] += count
        return count

    async def replay_loop(self) -> None:
        while True:
            await self.replay()
            self.channel.app.health.beat("telegram-replay")
            await asyncio.sleep(self.options.replay_interval)

    def _schedule(self, update: Update, replayed: bool) -> None:
        self._work.add(chat_key(update), (update, replayed))

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until every queued update is handled. False on timeout."""
        return await self._work.drain(timeout)

    async def stop(self) -> None:
        await self._work.stop()

    @property
    def pending(self) -> int:
        return self._work.pending

    # ---- handling ------------------------------------------------------------------------------
    async def _handle(self, item: tuple[Update, bool]) -> None:
        await self._process(*item)

    async def _process(self, update: Update, replayed: bool) -> None:
        ticket = Ticket(update.update_id, replayed=replayed)
        try:
            update.event_type  # noqa: B018  (raises for a kind of update aiogram does not know)
        except UpdateTypeLookupError:
            log.info("an update of a kind this bot does not know was ignored")
            await self.inbox.finish_alone(CHANNEL, ticket.external_id)
            return
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
                if ticket.done:
                    break  # its effect is stored; what failed came after (e.g. answering a button)
                if attempt + 1 == attempts:
                    self.stats["failed"] += 1
                    await self.tell_person(update)
                    return  # left in the inbox: replay_loop tries again in a few seconds
                await asyncio.sleep(self.options.handle_backoff * 2**attempt)
        if not ticket.done:
            try:
                await self.inbox.finish_alone(CHANNEL, ticket.external_id)
            except Exception as exc:  # replayed later and then found handled or not
                log.error("could not mark an update handled: %s", describe(exc))

    async def tell_person(self, update: Update) -> None:
        """Handling failed (the database is away): tell the person where help is, without the
        database, at most every few minutes per chat. Their message is kept and handled later."""
        found = private_chat(update)
        if found is None:
            return
        chat_id, lang = found
        now = time.monotonic()
        if now - self._told.get(chat_id, -FALLBACK_EVERY) < FALLBACK_EVERY:
            return
        self._told[chat_id] = now
        if len(self._told) > 10_000:
            self._told = {c: t for c, t in self._told.items() if now - t < FALLBACK_EVERY}
        lang = (lang or "az").split("-")[0]
        text = self.channel.app.content.t("error.internal", lang if lang in ("az", "ru", "en") else "az")
        try:
            await self.channel.bot.send_message(chat_id=chat_id, text=text)
        except Exception as exc:
            log.warning("could not send the fallback answer: %s", describe(exc))
