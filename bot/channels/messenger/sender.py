"""The outbox worker for Messenger and Instagram: delivers what the core wrote, durably and within
Meta's rules.

- One process sends (``Leadership("sender:messenger")``); a process that becomes the sender first takes
  back every lease (``reclaim``) of both channels, so nothing waits a whole lease after a crash.
- One *lane* per person: their messages go out in order, each recorded as sent before the next one
  goes (a crash re-sends at most the one message in flight). A message never overtakes an older one
  that waits for a retry, even one from before a restart.
- Meta's windows: ``messaging_type: RESPONSE`` within 24 hours of the person's last message; after
  that a counsellor's words (and only those) go with ``MESSAGE_TAG`` / ``HUMAN_AGENT`` for up to 7
  days; later, and for a person who blocked the Page, the item is given up and the counsellors are
  told in the staff chat, in the staff language, that the person can no longer be reached and what to
  do. A bot message outside the 24 hours is given up silently (Meta allows no automated message then).
- Rate limits (codes 4, 17, 32, 613; HTTP 429) pause every send (they count for the whole Page), for
  Meta's hint or with backoff; 5xx and network errors pause that person's lane with backoff. The item
  is retried from the outbox; nothing is lost and the order is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.channels.messenger import store
from bot.channels.messenger.events import CHANNELS
from bot.channels.messenger.graph import GraphError
from bot.channels.messenger.options import HUMAN_AGENT_WINDOW, STANDARD_WINDOW
from bot.channels.messenger.render import Renderer
from bot.deliveries import MediaToPerson, StaffNotice, ToPerson
from bot.jobs import Leadership, describe
from bot.storage.outbox import Delivery, backoff

if TYPE_CHECKING:
    from bot.channels.messenger import MessengerChannel

log = logging.getLogger(__name__)

RESPONSE = {"messaging_type": "RESPONSE"}
HUMAN_AGENT = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
# What the counsellors are told: (why, did a counsellor's own words fail to arrive) -> content key.
NOTICES = {
    ("unreachable", True): "messenger.staff.not_delivered_blocked",
    ("unreachable", False): "messenger.staff.blocked",
    ("window", True): "messenger.staff.not_delivered_window",
}


@dataclass
class Lane:
    key: tuple[str, str]  # (channel, PSID/IGSID)
    queue: deque[Delivery] = field(default_factory=deque)
    facts: dict[int, store.Facts] = field(default_factory=dict)
    unreachable_since: datetime | None = None  # found out while sending (until they write again)
    paused_until: float = 0.0
    failures: int = 0
    task: asyncio.Task[None] | None = None


def counsellor_words(item: Delivery) -> bool:
    payload = item.payload
    return isinstance(payload, MediaToPerson) or (isinstance(payload, ToPerson) and payload.relay)


class Sender:
    def __init__(self, channel: MessengerChannel) -> None:
        self.channel = channel
        self.app = channel.app
        self.options = channel.options
        self.renderer = Renderer(self.app.content)
        self.leader = Leadership(self.app.db, "sender:messenger")
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._held: dict[int, Lane] = {}
        self._progress: dict[int, int] = {}  # item id -> messages of it already sent (a long text)
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._wake = asyncio.Event()
        self._paused_until = 0.0  # a Page-wide rate limit: nothing is sent before this
        self._rate_failures = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self._leading = False
        self.stats = {"sent": 0, "retried": 0, "dead": 0, "deferred": 0, "human_agent": 0, "notices": 0}

    def wake(self) -> None:
        self._wake.set()

    # ---- the loop (under bot.jobs.supervise) ---------------------------------------------------
    async def run(self) -> None:
        while True:
            self._wake.clear()
            if not await self.leader.acquire():
                self._leading = False
                self.app.health.beat("messenger-sender")
                await asyncio.sleep(self.options.leader_poll)
                continue
            if not self._leading:  # newly the sender: take back what a stopped sender held
                for channel in CHANNELS:
                    taken = await self.app.outbox.reclaim(channel)
                    if taken:
                        log.info("took back %d %s outbox item(s) from a stopped sender", taken, channel)
                self._leading = True
            full = await self._fill()
            self.app.health.beat("messenger-sender")
            if full:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_wait())

    def _idle_wait(self) -> float:
        """Until the next look at the outbox: the poll interval, or the rest of a rate-limit pause (in
        steps of at most 30 s, so the loop keeps beating for /healthz)."""
        paused = self._paused_until - time.monotonic()
        return min(30.0, max(self.options.outbox_poll, paused)) if paused > 0 else self.options.outbox_poll

    async def stop(self, release: bool = True) -> None:
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for timer in self._timers:
            timer.cancel()
        held = list(self._held)
        self._held.clear()
        self._lanes.clear()
        if release:
            try:
                await self.app.outbox.release(held)
            except Exception as exc:  # the next sender takes them back anyway
                log.warning("could not hand back %d outbox item(s) on stop: %s", len(held), describe(exc))
            await self.leader.release()
        self._leading = False

    # ---- taking items ----------------------------------------------------------------------------
    async def _fill(self) -> bool:
        if self._paused_until > time.monotonic():
            return False
        items: list[Delivery] = []
        full = False
        for channel in CHANNELS:
            batch = await self.app.outbox.due(channel, limit=self.options.outbox_batch, target="person")
            full = full or len(batch) >= self.options.outbox_batch
            items.extend(item for item in batch if item.id not in self._held)
        if not items:
            return full
        items.sort(key=lambda item: item.id)  # (the outbox holds back one behind an older one's retry)
        facts = await store.facts(self.app.db, [i.person_id for i in items if i.person_id is not None])
        for item in items:
            if not item.address:
                await self._dead(item, "no address")
                continue
            key = (item.channel, item.address)
            lane = self._lanes.get(key) or self._lanes.setdefault(key, Lane(key))
            if item.person_id is not None and item.person_id in facts:
                lane.facts[item.person_id] = facts[item.person_id]
            # a pause that began while this batch was read (another send hit a rate limit, or an older
            # message of this person went back for a retry): go after it, never before
            paused = max(lane.paused_until, self._paused_until) - time.monotonic()
            if paused > 0:
                await self._defer([item], paused)
                continue
            lane.queue.append(item)
            self._held[item.id] = lane
            if lane.task is None or lane.task.done():
                lane.task = asyncio.create_task(self._work(lane), name="messenger-lane")
        self._prune()
        return full

    def _prune(self) -> None:
        if len(self._lanes) < 1000:
            return
        now = time.monotonic()
        for key, lane in list(self._lanes.items()):
            if not lane.queue and (lane.task is None or lane.task.done()) and lane.paused_until < now:
                del self._lanes[key]

    # ---- one person ------------------------------------------------------------------------------
    async def _work(self, lane: Lane) -> None:
        while lane.queue:
            wait = self._paused_until - time.monotonic()
            if wait > 0:  # a Page-wide rate limit began: the rest waits in the outbox, in order
                lane.paused_until = max(lane.paused_until, time.monotonic() + wait)
                rest = list(lane.queue)
                lane.queue.clear()
                for item in rest:
                    self._held.pop(item.id, None)
                await self._defer(rest, wait)
                return
            item = lane.queue.popleft()
            async with self._slots:
                try:
                    await self._deliver(lane, item, followed=bool(lane.queue))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # outside the send (the database while giving up): later
                    log.error("messenger outbox item %s failed: %s", item.id, describe(exc))
                    await self._pause_lane(lane, item, describe(exc))

    async def _deliver(self, lane: Lane, item: Delivery, followed: bool) -> None:
        words = counsellor_words(item)
        facts = lane.facts.get(item.person_id) if item.person_id is not None else None
        if self._unreachable(lane, facts):
            await self._give_up(item, "unreachable: marked before", notice="unreachable")
            return
        how = self._window(item, facts, words)
        if how is None:
            await self._give_up(item, "window closed: last message too old", notice="window")
            return
        messages = self.renderer.messages(item.channel, item.payload, followed=followed)
        if not messages:
            await self._give_up(item, f"nothing to send ({item.kind})")
            return
        result: dict[str, Any] = {}
        try:
            while True:
                try:
                    for index in range(self._progress.get(item.id, 0), len(messages)):
                        body = {"recipient": {"id": lane.key[1]}, **how, "message": messages[index]}
                        answer = await self.channel.graph.send(body)
                        self._progress[item.id] = index + 1
                        result = {"message_id": answer.get("message_id"), **how}
                    break
                except GraphError as exc:
                    if exc.kind == "window" and words and how is RESPONSE and self._tag_allowed(facts):
                        how = HUMAN_AGENT  # Meta's clock says the 24 hours are over: a human agent's reply
                        continue
                    raise
        except asyncio.CancelledError:
            raise
        except GraphError as exc:
            await self._failed(lane, item, exc)
            return
        except Exception as exc:  # a bug, the database: keep the item, try again later
            log.error("messenger outbox item %s failed: %s", item.id, describe(exc))
            await self._pause_lane(lane, item, describe(exc))
            return
        lane.failures = 0
        self._rate_failures = 0
        self._progress.pop(item.id, None)
        if how is HUMAN_AGENT:
            self.stats["human_agent"] += 1
        await self._acknowledge(item, result)
        self._held.pop(item.id, None)
        self.stats["sent"] += 1
        metrics.MESSAGES.labels(direction="out", channel=item.channel).inc()

    @staticmethod
    def _unreachable(lane: Lane, facts: store.Facts | None) -> bool:
        if facts is not None and facts.unreachable:
            return True
        since = lane.unreachable_since
        return since is not None and (facts is None or facts.last_seen is None or facts.last_seen <= since)

    def _window(self, item: Delivery, facts: store.Facts | None, words: bool) -> dict[str, str] | None:
        """How this item may go now: RESPONSE, HUMAN_AGENT, or not at all (None)."""
        if facts is None or facts.last_seen is None:
            return RESPONSE  # not linked to a person (the /forget confirmation): an answer just now
        age = self.channel.clock() - facts.last_seen
        if age <= STANDARD_WINDOW:
            return RESPONSE
        if words and age <= HUMAN_AGENT_WINDOW:
            return HUMAN_AGENT
        return None

    def _tag_allowed(self, facts: store.Facts | None) -> bool:
        return (
            facts is None
            or facts.last_seen is None
            or (self.channel.clock() - facts.last_seen <= HUMAN_AGENT_WINDOW)
        )

    async def _acknowledge(self, item: Delivery, result: dict[str, Any]) -> None:
        """Record the delivery before the person's next message goes (kept trying while the database
        is away; until then the lane waits)."""
        failures = 0
        while True:
            try:
                await self.app.outbox.sent_many([(item.id, result)])
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.error("could not record a messenger delivery: %s", describe(exc))
                await asyncio.sleep(backoff(failures, self.options.backoff_base, self.options.backoff_cap))

    # ---- errors ----------------------------------------------------------------------------------
    async def _failed(self, lane: Lane, item: Delivery, exc: GraphError) -> None:
        if exc.kind == "unreachable":
            lane.unreachable_since = self.channel.clock()
            log.info("a %s person cannot be reached (%s)", item.channel, exc)
            await self._give_up(item, f"unreachable: {exc}", notice="unreachable", found_now=True)
        elif exc.kind == "window":
            await self._give_up(item, f"window closed: {exc}", notice="window")
        elif exc.kind == "refused":
            log.error(
                "Meta refused messenger outbox item %s (%s/%s): %s", item.id, item.kind, item.channel, exc
            )
            await self._give_up(item, f"refused: {exc}")
        elif exc.kind == "rate_limit":
            self._rate_failures += 1
            wait = exc.wait or backoff(
                self._rate_failures, self.options.rate_limit_wait, self.options.rate_limit_cap
            )
            wait = min(wait, self.options.rate_limit_cap)
            log.warning("Meta's rate limit reached (%s): every send waits %.1f s", exc, wait)
            self._paused_until = max(self._paused_until, time.monotonic() + wait)
            await self._reschedule(lane, item, wait, str(exc))
            self._wake_in(wait)
        else:
            if exc.kind == "auth":
                log.error("Meta refused the page token or a permission (%s): check MESSENGER_PAGE_TOKEN", exc)
            else:
                log.warning("the Graph API is unavailable (%s); this person's messages wait", exc)
            await self._pause_lane(lane, item, str(exc))

    async def _pause_lane(self, lane: Lane, item: Delivery, error: str) -> None:
        lane.failures += 1
        delay = backoff(lane.failures, self.options.backoff_base, self.options.backoff_cap)
        lane.paused_until = time.monotonic() + delay
        await self._reschedule(lane, item, delay, error)
        self._wake_in(delay)

    async def _reschedule(self, lane: Lane, item: Delivery, delay: float, error: str) -> None:
        """Retry ``item`` after ``delay``; the lane's other held items go back to the outbox till then.

        The lane stays paused as long, before anything is awaited: a batch being taken meanwhile must
        not put a newer message of this person on the lane ahead of the one going back."""
        limit = self.app.settings.outbox_max_attempts
        dead = bool(limit and item.attempts >= limit)
        if dead:
            delay = 0.0  # it goes no more: nothing has to wait behind it
        lane.paused_until = max(lane.paused_until, time.monotonic() + delay)
        rest = list(lane.queue)
        lane.queue.clear()
        for other in (item, *rest):
            self._held.pop(other.id, None)
        try:
            if dead:
                await self._dead(item, f"gave up after {item.attempts} attempts: {error}")
            else:
                await self.app.outbox.retry(item.id, delay, error)
                self.stats["retried"] += 1
        except Exception as exc:  # the lease brings it back anyway
            log.error("could not reschedule a messenger outbox item: %s", describe(exc))
        await self._defer(rest, delay)

    async def _defer(self, items: list[Delivery], delay: float) -> None:
        if not items:
            return
        try:
            await self.app.outbox.defer([i.id for i in items], delay)
            self.stats["deferred"] += len(items)
        except Exception as exc:
            log.error("could not put messenger outbox items back: %s", describe(exc))

    def _wake_in(self, delay: float) -> None:
        timer = asyncio.get_running_loop().call_later(delay + 0.01, self.wake)
        self._timers.add(timer)
        if len(self._timers) > 1000:
            now = asyncio.get_running_loop().time()
            self._timers = {t for t in self._timers if not t.cancelled() and t.when() > now}

    async def _dead(self, item: Delivery, error: str) -> None:
        self._held.pop(item.id, None)
        self._progress.pop(item.id, None)
        try:
            await self.app.outbox.dead(item.id, error)
        except Exception as exc:
            log.error("could not give up a messenger outbox item: %s", describe(exc))
        self.stats["dead"] += 1

    async def _give_up(
        self, item: Delivery, error: str, notice: str | None = None, found_now: bool = False
    ) -> None:
        """The item can never be delivered. The counsellors hear of it when their words did not
        arrive, or when an open case's person has just been found unreachable."""
        await self._dead(item, error)
        if notice is None or item.case_id is None:
            return
        if not counsellor_words(item):
            if not found_now:
                return
            view = await self.app.desk.case(item.case_id, messages=0)
            if view is None or not view.open:
                return
        await self._tell_staff(item, notice)

    async def _tell_staff(self, item: Delivery, notice: str) -> None:
        content, settings = self.app.content, self.app.settings
        lang = settings.telegram_staff_language or "az"
        where = content.t(f"staff.channel.{item.channel}", lang)
        key = NOTICES[(notice, counsellor_words(item))]
        outcome = content.t("outcome.unreachable", lang)
        text = content.t(key, lang, case=item.case_id, channel=where, outcome=outcome)
        try:
            await self.app.outbox.enqueue_staff(settings.staff_channel, StaffNotice(text=text), item.case_id)
            self.stats["notices"] += 1
        except Exception as exc:
            log.error("could not tell the counsellors about an unreachable person: %s", describe(exc))
            return
        self.channel.wake_peers()


__all__ = ["HUMAN_AGENT", "RESPONSE", "Sender"]
