"""Every Messenger/Instagram event is written to the inbox before the webhook answers 200.

``Intake.accept(events)`` records a webhook request's events (one inbox transaction per channel) and
queues the new ones; a redelivered event is found in the inbox and dropped. One person's events are
handled one after another, in order; different people's at the same time. The engine marks an event
done in the transaction that handles it. An event that could not be handled (the database away for
a while) stays in the inbox and is replayed by ``replay_loop`` every few seconds, in this process or
another replica, for as long as it takes; meanwhile the person hears, without the database, where
help is (116111, 112).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from bot.channels.messenger.events import CHANNELS, Event, from_stored, to_inbound
from bot.channels.ordered import OrderedWork
from bot.jobs import describe

if TYPE_CHECKING:
    from bot.channels.messenger import MessengerChannel

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (channel, sender)


def _ident(event: Event) -> Key:
    return (event.channel, event.external_id)


class Intake:
    def __init__(self, channel: MessengerChannel) -> None:
        self.channel = channel
        self.app = channel.app
        self.options = channel.options
        # one person's events in order, people side by side; inflight: (channel, external id)
        self._work: OrderedWork[Event] = OrderedWork(
            self._process, _ident, self.options.handle_concurrency, "messenger-person"
        )
        self._told: dict[Key, float] = {}
        self._side: set[asyncio.Task[None]] = set()  # fallback answers on their way
        self.stats = {"accepted": 0, "duplicates": 0, "replayed": 0, "failed": 0}

    # ---- intake --------------------------------------------------------------------------------
    async def accept(self, events: list[Event]) -> int:
        """Record the events and queue the new ones; returns how many were new.

        Raises if the inbox cannot be written: the webhook must not answer 200 then (Meta retries)."""
        by_channel: dict[str, list[Event]] = {}
        for event in events:
            by_channel.setdefault(event.channel, []).append(event)
        fresh: dict[str, set[str]] = {}
        for channel, batch in by_channel.items():
            fresh[channel] = await self.app.inbox.record(
                channel, [(e.external_id, e.stored()) for e in batch]
            )
        accepted = 0
        for event in events:
            key = (event.channel, event.external_id)
            if event.external_id not in fresh[event.channel] or key in self._work.inflight:
                self.stats["duplicates"] += 1
                continue
            fresh[event.channel].discard(event.external_id)  # the same event twice in one request
            accepted += 1
            self._schedule(event)
        self.stats["accepted"] += accepted
        return accepted

    async def replay(self) -> int:
        """Queue what was recorded but never finished (a crash, a database outage)."""
        count = 0
        for channel in CHANNELS:
            busy = {external_id for ch, external_id in self._work.inflight if ch == channel}
            rows = await self.app.inbox.take_pending(channel, limit=200, exclude=busy)
            for external_id, payload in rows:
                event = from_stored(external_id, payload)
                if event is None:
                    await self.app.inbox.finish_alone(channel, external_id, error="unreadable event")
                    continue
                if (channel, external_id) in self._work.inflight:
                    continue
                self._schedule(event)
                count += 1
        if count:
            log.info("replaying %d messenger event(s) recorded but not handled", count)
        self.stats["replayed"] += count
        return count

    async def replay_loop(self) -> None:
        while True:
            await self.replay()
            self.app.health.beat("messenger-replay")
            await asyncio.sleep(self.options.replay_interval)

    def _schedule(self, event: Event) -> None:
        self._work.add((event.channel, event.sender), event)

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until every queued event is handled. False on timeout."""
        return await self._work.drain(timeout)

    async def stop(self) -> None:
        side = list(self._side)
        for task in side:
            task.cancel()
        await asyncio.gather(*side, return_exceptions=True)
        await self._work.stop()

    @property
    def pending(self) -> int:
        return self._work.pending

    # ---- handling ------------------------------------------------------------------------------
    async def _process(self, event: Event) -> None:
        inbound = to_inbound(event)
        attempts = max(1, self.options.handle_retries)
        for attempt in range(attempts):
            try:
                await self.channel.handle(inbound)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error(
                    "handling a %s event failed (attempt %d of %d): %s",
                    event.channel,
                    attempt + 1,
                    attempts,
                    describe(exc),
                )
                if attempt + 1 == attempts:
                    self.stats["failed"] += 1
                    await self.tell_person(event)
                    return  # left in the inbox: replay_loop tries again in a few seconds
                await asyncio.sleep(self.options.handle_backoff * 2**attempt)

    def tell_soon(self, events: list[Event]) -> None:
        """The inbox could not be written (Meta will send the events again): meanwhile each person
        hears where help is, in the background (the webhook answers at once)."""
        people: dict[Key, Event] = {}
        for event in events:
            people.setdefault((event.channel, event.sender), event)
        for event in people.values():
            task = asyncio.create_task(self.tell_person(event), name="messenger-fallback")
            self._side.add(task)
            task.add_done_callback(self._side.discard)

    async def tell_person(self, event: Event) -> None:
        """Handling failed (the database is away): tell the person where help is, straight through the
        Send API, at most every few minutes per person. Their message is kept and handled later."""
        person = (event.channel, event.sender)
        now = time.monotonic()
        every = self.options.fallback_every
        if now - self._told.get(person, -every) < every:
            return
        self._told[person] = now
        if len(self._told) > 10_000:
            self._told = {p: t for p, t in self._told.items() if now - t < every}
        text = self.app.content.t("error.internal", "az")
        try:
            await self.channel.graph.send(
                {"recipient": {"id": event.sender}, "messaging_type": "RESPONSE", "message": {"text": text}}
            )
        except Exception as exc:
            log.warning("could not send the fallback answer on %s: %s", event.channel, describe(exc))
