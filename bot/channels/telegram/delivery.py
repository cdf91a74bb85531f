"""The outbox worker: delivers everything the bot sends on Telegram, durably and within the limits.

- One process sends for a bot token (``Leadership("sender:telegram")``): Telegram's limits are per
  bot, so one sender paces them correctly, and a chat's messages go out in order. When that process
  dies, another replica takes over within seconds and first takes back every lease (nothing waits a
  whole lease).
- One *lane* per chat: a chat's messages go out in order; the staff chat's lane puts new case cards
  and alerts first. Each lane is paced (about 1/s with a small burst in a private chat, 20/min in
  the staff group) and all lanes share the global pace (30/s).
- 429: only that chat pauses for ``retry_after``; its other items go back to the outbox (without
  counting an attempt) until the pause ends. 5xx, network errors and anything unexpected: the same,
  with exponential backoff. A case card is never given up.
- 403 from a person (they blocked the bot) or a message Telegram will never accept: ``dead``.
- Only items being sent right now are held in memory; everything else waits in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.channels.telegram.errors import classify
from bot.channels.telegram.options import Window
from bot.channels.telegram.render import Renderer
from bot.deliveries import CaseNote, Reminder, StaffNotice
from bot.jobs import Leadership, describe
from bot.storage.outbox import Delivery, backoff

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Staff lane order: new cases first (most urgent first), then reminders and alerts, then the
# conversation, then card edits.
RANK_CARD, RANK_ALERT, RANK_TALK, RANK_EDIT = 0, 1, 2, 3


class Limiter:
    """At most ``count`` sends within any ``seconds`` (a sliding window)."""

    def __init__(self, window: Window, margin: float) -> None:
        self.count = window.count
        self.seconds = window.seconds + margin
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.count:
            return 0.0
        return self.times[0] + self.seconds - now

    def record(self, now: float) -> None:
        self.times.append(now)

    @property
    def last(self) -> float:
        return self.times[-1] if self.times else 0.0


@dataclass
class Lane:
    chat_id: int
    limiter: Limiter
    heap: list[tuple[int, int, int, Delivery]] = field(default_factory=list)
    paused_until: float = 0.0
    failures: int = 0
    task: asyncio.Task[None] | None = None


def rank(item: Delivery) -> tuple[int, int]:
    if item.target != "staff":
        return (0, 0)
    payload = item.payload
    if isinstance(payload, CaseNote):
        if payload.name == "case_opened":
            return (RANK_CARD, -payload.priority)
        if payload.name == "case_updated":
            return (RANK_ALERT, -payload.priority)
        return (RANK_EDIT, 0)
    if isinstance(payload, Reminder):
        return (RANK_ALERT, -payload.priority)
    return (RANK_TALK, 0)


class Sender:
    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.app = channel.app
        self.options = channel.options
        self._pacing = self.options.pacing
        self._overall = Limiter(self._pacing.overall, self._pacing.margin)
        self._lanes: dict[int, Lane] = {}
        self._held: dict[int, Lane] = {}
        self._progress: dict[int, int] = {}  # item id -> parts already sent (long texts, label + copy)
        self._wake = asyncio.Event()
        self._timers: set[asyncio.TimerHandle] = set()
        self.leader = Leadership(self.app.db, "sender:telegram")
        self.renderer = Renderer(channel, self)
        self.stats = {"sent": 0, "retried": 0, "dead": 0, "deferred": 0}
        # Delivered items are marked "sent" in batches (one transaction for what finished together), and a
        # chat's next message waits until its last one is recorded: a crash re-sends at most one
        # message per chat (Telegram has no idempotency key).
        self._acks: list[tuple[int, dict[str, Any] | None]] = []
        self._ack_event = asyncio.Event()
        self._ack_done: asyncio.Future[None] | None = None
        self._leading = False

    @property
    def staff(self) -> Any:
        return self.renderer.staff

    def wake(self) -> None:
        self._wake.set()

    # ---- the loops (run under bot.jobs.supervise) ----------------------------------------------
    async def run(self) -> None:
        """Take due items and hand them to their lanes, while this process is the sender."""
        while True:
            self._wake.clear()
            if not await self.leader.acquire():
                self._leading = False
                await asyncio.sleep(self.options.leader_poll)
                self.channel.app.health.beat("telegram-sender")
                continue
            if not self._leading:  # newly the sender: take back what a dead sender held
                reclaimed = await self.app.outbox.reclaim(CHANNEL)
                if reclaimed:
                    log.info("took back %d outbox item(s) from a stopped sender", reclaimed)
                self._leading = True
            full = await self._fill()
            self.channel.app.health.beat("telegram-sender")
            if full:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.outbox_poll)

    async def run_acks(self) -> None:
        while True:
            await self._ack_event.wait()  # what was delivered while the last batch was written goes next
            self._ack_event.clear()
            await self._flush_acks()
            self.channel.app.health.beat("telegram-acks")

    async def _acknowledge(self, item_id: int, result: dict[str, Any] | None) -> None:
        """Record a delivery; returns once it is written (with whatever else finished meanwhile)."""
        if self._ack_done is None or self._ack_done.done():
            self._ack_done = asyncio.get_running_loop().create_future()
        done = self._ack_done
        self._acks.append((item_id, result))
        self._ack_event.set()
        await asyncio.shield(done)

    async def _flush_acks(self) -> None:
        batch, self._acks = self._acks, []
        done, self._ack_done = self._ack_done, None
        if not batch:
            return
        try:
            await self.app.outbox.sent_many(batch)
        except BaseException:  # keep them (the items stay leased meanwhile); supervise retries
            self._acks[:0] = batch
            if self._ack_done is None:
                self._ack_done = done
            elif done is not None and not done.done():
                self._ack_done.add_done_callback(lambda _: done.done() or done.set_result(None))
            self._ack_event.set()
            raise
        if done is not None and not done.done():
            done.set_result(None)
        metrics.MESSAGES.labels(direction="out", channel=CHANNEL).inc(len(batch))

    async def stop(self, release: bool = True) -> None:
        """Stop sending. ``release``: record what was delivered and give back the rest at once
        (without it, as after a crash, they are taken back by the next sender)."""
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for timer in self._timers:
            timer.cancel()
        held = list(self._held)
        self._held.clear()
        for lane in self._lanes.values():
            lane.heap.clear()
            lane.task = None
        if release:
            try:
                await self._flush_acks()
                await self.app.outbox.release(held)
            except Exception as exc:  # the next sender takes them back anyway
                log.warning("could not hand back %d outbox items on stop: %s", len(held), describe(exc))
            await self.leader.release()
        self._acks.clear()

    # ---- taking items from the outbox ----------------------------------------------------------
    async def _fill(self) -> bool:
        items = await self.app.outbox.due(CHANNEL, limit=self.options.outbox_batch)
        now = time.monotonic()
        deferred: dict[float, list[int]] = {}
        for item in items:
            if item.id in self._held:
                continue  # its lease ran out while it waited its turn here; it is still ours
            chat_id = self._chat_for(item)
            if chat_id is None:
                await self.app.outbox.dead(item.id, "no address")
                self.stats["dead"] += 1
                continue
            lane = self._lane(chat_id)
            if lane.paused_until > now:
                deferred.setdefault(round(lane.paused_until - now, 2), []).append(item.id)
                continue
            self._held[item.id] = lane
            heapq.heappush(lane.heap, (*rank(item), item.id, item))
            if lane.task is None or lane.task.done():
                lane.task = asyncio.create_task(self._work(lane), name="telegram-lane")
        for delay, ids in deferred.items():
            await self.app.outbox.defer(ids, delay)
            self.stats["deferred"] += len(ids)
        self._prune()
        return len(items) >= self.options.outbox_batch

    def _chat_for(self, item: Delivery) -> int | None:
        if item.target == "staff":
            return self.channel.staff_chat_id
        try:
            return int(item.address) if item.address else None
        except ValueError:
            return None

    def _lane(self, chat_id: int) -> Lane:
        lane = self._lanes.get(chat_id)
        if lane is None:
            window = self._pacing.group if chat_id < 0 else self._pacing.private
            lane = self._lanes[chat_id] = Lane(chat_id, Limiter(window, self._pacing.margin))
        return lane

    def _prune(self) -> None:
        if len(self._lanes) < 1000:
            return
        now = time.monotonic()
        for chat_id, lane in list(self._lanes.items()):
            idle = not lane.heap and (lane.task is None or lane.task.done()) and lane.paused_until < now
            if idle and now - lane.limiter.last > lane.limiter.seconds:
                del self._lanes[chat_id]

    # ---- pacing --------------------------------------------------------------------------------
    def _ready_in(self, lane: Lane) -> float:
        now = time.monotonic()
        return max(lane.paused_until - now, lane.limiter.wait(now), self._overall.wait(now))

    async def acquire(self, lane: Lane) -> None:
        """Wait until this chat and the bot as a whole may post one more message, and count it."""
        while True:
            now = time.monotonic()
            wait = max(lane.limiter.wait(now), self._overall.wait(now))
            if wait <= 0:
                lane.limiter.record(now)
                self._overall.record(now)
                return
            await asyncio.sleep(wait)

    async def acquire_staff(self) -> None:
        await self.acquire(self._lane(self.channel.staff_chat_id))

    async def parts(self, item: Delivery, parts: list[Callable[[], Awaitable[Any]]]) -> Any:
        """Send several messages for one item; after a failure only the missing ones are sent again."""
        result = None
        done = self._progress.get(item.id, 0)
        for index in range(done, len(parts)):
            result = await parts[index]()
            self._progress[item.id] = index + 1
        return result

    # ---- one lane ------------------------------------------------------------------------------
    async def _work(self, lane: Lane) -> None:
        while lane.heap:
            wait = self._ready_in(lane)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            *_, item = heapq.heappop(lane.heap)
            await self._deliver(lane, item)

    async def _deliver(self, lane: Lane, item: Delivery) -> None:
        try:
            result = await self.renderer.render(lane, item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            to_staff = item.target == "staff"
            verdict = classify(exc, to_staff, notice=isinstance(item.payload, StaffNotice))
            if not verdict.retry:
                log.info("outbox item %s undeliverable: %s", item.id, verdict.error)
                result = {"dead": verdict.error}
            else:
                lane.failures += 1
                delay = verdict.wait if verdict.wait is not None else self._backoff(lane)
                if verdict.why == "migrate":
                    log.error("the staff chat became a supergroup: set TELEGRAM_STAFF_CHAT_ID to its new id")
                elif verdict.why == "staff refused":
                    log.error(
                        "staff chat refused a message (%s): check the bot's rights there", verdict.error
                    )
                elif verdict.why == "unexpected":
                    log.error(
                        "outbox item %s (%s/%s) failed: %s", item.id, item.target, item.kind, verdict.error
                    )
                elif verdict.why != "rate limit":
                    log.warning("telegram unavailable (%s), chat paused", verdict.error)
                await self._pause(lane, item, delay, verdict.error, verdict.count)
                return
        lane.failures = 0
        self._progress.pop(item.id, None)
        self._held.pop(item.id, None)
        if result.get("dead"):
            await self.app.outbox.dead(item.id, str(result["dead"]))
            self.stats["dead"] += 1
        else:
            self.stats["sent"] += 1
            await self._acknowledge(item.id, result)

    def _backoff(self, lane: Lane) -> float:
        return backoff(lane.failures, self.options.backoff_base, self.options.backoff_cap)

    async def _pause(self, lane: Lane, item: Delivery, delay: float, error: str, count: bool = True) -> None:
        """Retry ``item`` after ``delay``; the chat's other held items go back to the outbox till then."""
        lane.paused_until = time.monotonic() + delay
        rest = [other for *_, other in lane.heap]
        lane.heap.clear()
        for other in (item, *rest):
            self._held.pop(other.id, None)
        max_attempts = self.app.settings.outbox_max_attempts
        try:
            if item.target == "person" and max_attempts and item.attempts >= max_attempts:
                await self.app.outbox.dead(item.id, f"gave up after {item.attempts} attempts: {error}")
                self.stats["dead"] += 1
            elif count:
                await self.app.outbox.retry(item.id, delay, error)
                self.stats["retried"] += 1
            else:
                await self.app.outbox.defer([item.id], delay, error)
            await self.app.outbox.defer([other.id for other in rest], delay)
        except Exception as exc:  # the leases bring them back anyway
            log.error("could not reschedule outbox items: %s", describe(exc))
        timer = asyncio.get_running_loop().call_later(delay + 0.01, self.wake)
        self._timers.add(timer)
        if len(self._timers) > 1000:
            self._timers = {t for t in self._timers if not t.cancelled() and t.when() > time.monotonic()}
