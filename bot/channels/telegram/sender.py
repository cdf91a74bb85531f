"""The outbox worker: delivers everything the bot sends on Telegram, durably and within the limits.

- One *lane* per chat: a chat's messages go out in order; the staff chat's lane puts new case cards
  and reminders first. Each lane is paced (about 1/s with a small burst in a private chat, 20/min in
  the staff group) and all lanes share the global pace (30/s).
- 429: the item is retried after ``retry_after`` and only that chat pauses; the chat's other items go
  back to the outbox (without counting an attempt) to be taken again when the pause ends. Other chats
  go on.
- 5xx and network errors: the same, with exponential backoff. A case card is never given up.
- 403 from a person (they blocked the bot) or a message Telegram will never accept: ``dead``.
- Only items being sent right now are held in memory; everything else waits in the database, so a
  restart loses nothing.
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
from html import escape
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageId, ReplyParameters

from bot.channels.telegram import cards, links
from bot.channels.telegram.options import Window
from bot.channels.telegram.staffchat import NO_PREVIEW, StaffChat, error_text, message_gone
from bot.outbox import Delivery, backoff
from bot.staff import CaseView
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_RELAY_PARTS = 4  # a person's very long message reaches the staff chat cut to this many messages
CAPTIONABLE = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
# Staff lane order: new cases first (most urgent first), then reminders and alerts, then the
# conversation, then card edits.
RANK_CARD, RANK_ALERT, RANK_TALK, RANK_EDIT = 0, 1, 2, 3


def describe(exc: BaseException) -> str:
    """An exception for the log without its message (which may quote a person's words)."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(exc).__name__} at {where}" if where else type(exc).__name__


def api_error(exc: TelegramAPIError) -> str:
    """Telegram's error description (it never contains message text) for the outbox and the log."""
    return f"{type(exc).__name__}: {getattr(exc, 'message', '')}"[:300]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into Telegram-sized parts, at a line break or a space where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    if text:
        parts.append(text)
    return parts


def keyboard(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    buttons = [
        [
            InlineKeyboardButton(text=b["text"], callback_data=b["data"])
            for b in row
            if b.get("text") and b.get("data")
        ]
        for row in rows or []
    ]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None


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


class Pause(Exception):
    """Stop this lane for ``delay`` seconds and retry the item then."""

    def __init__(self, delay: float, error: str, count: bool = True) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error
        self.count = count


class Sender:
    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.app = channel.app
        self.options = channel.options
        pacing = self.options.pacing
        self._pacing = pacing
        self._overall = Limiter(pacing.overall, pacing.margin)
        self._lanes: dict[int, Lane] = {}
        self._held: dict[int, Lane] = {}
        self._progress: dict[int, int] = {}  # item id -> parts already sent (long texts, label + copy)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self.staff = StaffChat(channel, self._acquire_staff)
        self.stats = {"sent": 0, "retried": 0, "dead": 0, "deferred": 0}
        # Delivered items are marked "sent" in batches: one transaction for many (a crash in between
        # sends those few again, as any crash between sending and recording would).
        self._acks: list[tuple[int, dict[str, Any] | None]] = []
        self._ack_event = asyncio.Event()
        self._ack_task: asyncio.Task[None] | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-sender")
        self._ack_task = asyncio.create_task(self._ack_loop(), name="telegram-sender-acks")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, release: bool = True) -> None:
        """Stop sending. ``release``: record what was delivered and give back the rest at once
        (without it, as after a crash, their leases expire on their own)."""
        tasks = [
            t
            for t in (self._task, self._ack_task, *(lane.task for lane in self._lanes.values()))
            if t is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if release:
            await self._flush_acks()
        self._acks.clear()
        for timer in self._timers:
            timer.cancel()
        held = list(self._held)
        self._held.clear()
        for lane in self._lanes.values():
            lane.heap.clear()
            lane.task = None
        if release and held:
            try:
                await self.app.outbox.release(held)
            except Exception as exc:  # the leases expire on their own
                log.warning("could not release %d outbox items on stop: %s", len(held), describe(exc))

    @property
    def busy(self) -> bool:
        return bool(self._held)

    async def _ack_loop(self) -> None:
        while True:
            await self._ack_event.wait()
            await asyncio.sleep(0.01)  # let a few more deliveries finish
            self._ack_event.clear()
            if not await self._flush_acks():
                await asyncio.sleep(self.options.backoff_base)
                self._ack_event.set()

    async def _flush_acks(self) -> bool:
        batch, self._acks = self._acks, []
        if not batch:
            return True
        try:
            await self.app.outbox.sent_many(batch)
        except Exception as exc:  # keep them; the items stay leased meanwhile
            log.error("could not record deliveries: %s", describe(exc))
            self._acks[:0] = batch
            return False
        return True

    # ---- taking items from the outbox ----------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                full = await self._fill()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. the database is unreachable: try again shortly
                failures += 1
                log.error("outbox poll failed: %s", describe(exc))
                await asyncio.sleep(backoff(failures, self.options.backoff_base, self.options.backoff_cap))
                continue
            if full:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.outbox_poll)

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
            heapq.heappush(lane.heap, (*self._rank(item), item.id, item))
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

    @staticmethod
    def _rank(item: Delivery) -> tuple[int, int]:
        if item.target != "staff":
            return (0, 0)
        priority = int(item.payload.get("priority") or 0)
        if item.kind == "case_event":
            event = item.payload.get("event")
            if event == "case_opened":
                return (RANK_CARD, -priority)
            if event == "case_updated":
                return (RANK_ALERT, -priority)
            return (RANK_EDIT, 0)
        if item.kind == "reminder":
            return (RANK_ALERT, -priority)
        return (RANK_TALK, 0)

    # ---- pacing --------------------------------------------------------------------------------
    def _ready_in(self, lane: Lane) -> float:
        now = time.monotonic()
        return max(lane.paused_until - now, lane.limiter.wait(now), self._overall.wait(now))

    async def _acquire(self, lane: Lane) -> None:
        """Wait until this chat and the bot as a whole may post one more message, and count it."""
        while True:
            now = time.monotonic()
            wait = max(lane.limiter.wait(now), self._overall.wait(now))
            if wait <= 0:
                lane.limiter.record(now)
                self._overall.record(now)
                return
            await asyncio.sleep(wait)

    async def _acquire_staff(self) -> None:
        await self._acquire(self._lane(self.channel.staff_chat_id))

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
            result = await self._send(lane, item)
        except asyncio.CancelledError:
            raise
        except Pause as pause:
            await self._pause(lane, item, pause.delay, pause.error, pause.count)
            return
        except Exception as exc:  # a bug or the database: keep the item, try again later
            lane.failures += 1
            log.error("outbox item %s (%s/%s) failed: %s", item.id, item.target, item.kind, describe(exc))
            await self._pause(lane, item, self._backoff(lane), describe(exc))
            return
        lane.failures = 0
        self._progress.pop(item.id, None)
        self._held.pop(item.id, None)
        if result.get("dead"):
            await self.app.outbox.dead(item.id, str(result["dead"]))
            self.stats["dead"] += 1
        else:
            self._acks.append((item.id, result))
            self._ack_event.set()
            self.stats["sent"] += 1

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

    # ---- sending -------------------------------------------------------------------------------
    async def _send(self, lane: Lane, item: Delivery) -> dict[str, Any]:
        try:
            if item.target == "staff":
                return await self._send_staff(item)
            return await self._send_person(lane, item)
        except TelegramRetryAfter as exc:
            raise Pause(float(exc.retry_after) + 0.05, f"429 retry after {exc.retry_after}") from exc
        except TelegramMigrateToChat as exc:
            log.error("the staff chat became a supergroup: set TELEGRAM_STAFF_CHAT_ID to its new id")
            lane.failures += 1
            raise Pause(self._backoff(lane), api_error(exc)) from exc
        except (TelegramServerError, TelegramNetworkError, TelegramNotFound) as exc:
            lane.failures += 1
            log.warning("telegram unavailable (%s), chat paused", type(exc).__name__)
            raise Pause(self._backoff(lane), api_error(exc)) from exc
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            if item.target == "person" or item.kind == "notice":
                # Blocked by the person, chat gone, or a message Telegram will never take.
                log.info("outbox item %s undeliverable: %s", item.id, api_error(exc))
                return {"dead": api_error(exc)}
            # The staff chat must get everything: wrong rights or settings are fixed by a human.
            lane.failures += 1
            log.error("staff chat refused a message (%s): check the bot's rights there", api_error(exc))
            raise Pause(self._backoff(lane), api_error(exc)) from exc
        except TelegramAPIError as exc:  # 401 (token revoked), 409, ...: keep trying, slowly
            lane.failures += 1
            log.error("telegram error %s", api_error(exc))
            raise Pause(self._backoff(lane), api_error(exc)) from exc

    async def _parts(self, item: Delivery, parts: list[Callable[[], Awaitable[Any]]]) -> Any:
        """Send several messages for one item; after a failure only the missing ones are sent again."""
        result = None
        done = self._progress.get(item.id, 0)
        for index in range(done, len(parts)):
            result = await parts[index]()
            self._progress[item.id] = index + 1
        return result

    # ---- to a person ---------------------------------------------------------------------------
    async def _send_person(self, lane: Lane, item: Delivery) -> dict[str, Any]:
        bot = self.channel.bot
        chat_id = lane.chat_id
        payload = item.payload
        ref = payload.get("media_ref") or {}
        if item.kind == "media" and ref.get("message_id") and ref.get("from_chat_id"):
            return await self._copy_to_person(lane, item)
        chunks = split_text(payload.get("text") or "")
        if not chunks:
            return {"dead": "empty message"}
        markup = keyboard(payload.get("buttons"))

        def part(index: int, chunk: str) -> Callable[[], Awaitable[Message]]:
            async def send() -> Message:
                await self._acquire(lane)
                return await bot.send_message(
                    chat_id=chat_id,
                    text=chunk,
                    reply_markup=markup if index == len(chunks) - 1 else None,
                    link_preview_options=NO_PREVIEW,
                )

            return send

        message = await self._parts(item, [part(i, c) for i, c in enumerate(chunks)])
        return {"message_id": message.message_id if message else None}

    async def _copy_to_person(self, lane: Lane, item: Delivery) -> dict[str, Any]:
        """A counsellor's photo, voice, file...: a copy, under the neutral counsellor name."""
        bot = self.channel.bot
        payload = item.payload
        ref = payload["media_ref"]
        label = payload.get("label") or payload.get("text") or ""
        media = payload.get("media") or ""
        parts: list[Callable[[], Awaitable[Any]]] = []
        with_caption = media in CAPTIONABLE and 0 < len(label) <= MAX_CAPTION

        async def text_first() -> Message:
            await self._acquire(lane)
            return await bot.send_message(chat_id=lane.chat_id, text=label[:MAX_TEXT])

        async def copy() -> MessageId | Message | None:
            await self._acquire(lane)
            extra: dict[str, Any] = {}
            if with_caption:
                extra["caption"] = label
            elif media in CAPTIONABLE:
                extra["caption"] = ""  # the label went as a text; do not repeat the caption
            try:
                return await bot.copy_message(
                    chat_id=lane.chat_id,
                    from_chat_id=int(ref["from_chat_id"]),
                    message_id=int(ref["message_id"]),
                    **extra,
                )
            except TelegramBadRequest as exc:
                if not message_gone(exc):
                    raise
                log.info("outbox item %s: the counsellor's message is gone; sending the words only", item.id)
                if with_caption:
                    return await bot.send_message(chat_id=lane.chat_id, text=label[:MAX_TEXT])
                return None

        if label and not with_caption:
            parts.append(text_first)
        parts.append(copy)
        result = await self._parts(item, parts)
        return {"message_id": getattr(result, "message_id", None)}

    # ---- to the staff chat ---------------------------------------------------------------------
    async def _send_staff(self, item: Delivery) -> dict[str, Any]:
        if item.kind == "notice":
            return await self._notice(item)
        case_id = item.case_id or item.payload.get("case")
        view = (
            await self.app.desk.case(int(case_id), messages=self.options.card_messages) if case_id else None
        )
        if view is None:
            return {"skipped": "no such case"}
        if item.kind == "case_event":
            return await self._case_event(item, view)
        if item.kind == "relay_in":
            return await self._relay_in(item, view)
        if item.kind == "reminder":
            return await self._reminder(view)
        log.warning("unknown staff outbox kind %r", item.kind)
        return {"skipped": item.kind}

    async def _case_event(self, item: Delivery, view: CaseView) -> dict[str, Any]:
        event = item.payload.get("event")
        first = view.staff_card_message_id is None
        if first and view.status not in ("queued", "claimed"):
            return {"skipped": "never announced"}  # closed before its card went out: nothing to show
        view = await (self.staff.ensure_case(view) if first else self.staff.update_card(view))
        if first or event == "case_opened":
            await self.app.desk.mark_announced(view.id)
        if not first and event == "case_updated" and view.status == "queued" and view.risk.escalates:
            view, _ = await self._claim_note(
                view, cards.raised_text(self.app.content, view, self.channel.staff_lang)
            )
        if not first and event in ("case_opened", "case_updated", "case_closed"):
            await self.staff.sync_topic(view, reopen=event == "case_opened")
        return {"card": view.staff_card_message_id, "thread": view.staff_thread_id}

    async def _reminder(self, view: CaseView) -> dict[str, Any]:
        if view.status != "queued":
            return {"skipped": view.status}
        text = cards.reminder_text(self.app.content, view, self.channel.staff_lang, utcnow())
        _, message = await self._claim_note(view, text)
        return {"message_id": message.message_id}

    async def _claim_note(self, view: CaseView, text: str) -> tuple[CaseView, Any]:
        """A note with a Claim button in the case's topic (or under its card)."""
        markup = cards.claim_markup(self.app.content, view, self.channel.staff_lang)
        view, message = await self.staff.send_in_case(
            view,
            lambda place: self.channel.bot.send_message(
                chat_id=self.staff.chat_id, text=text, reply_markup=markup, **place
            ),
        )
        await links.record(self.app.sessions, view.id, message.message_id, direction="note")
        return view, message

    async def _relay_in(self, item: Delivery, view: CaseView) -> dict[str, Any]:
        """What the person wrote, into the case's topic (or under its card)."""
        bot = self.channel.bot
        content, lang = self.app.content, self.channel.staff_lang
        payload = item.payload
        ref = payload.get("media_ref") or {}
        media = payload.get("media")
        sender = content.t("staff.sender.person", lang)
        text = payload.get("text") or ""
        staff_chat = self.staff.chat_id
        sent: list[Any] = []

        async def post_text(body: str) -> Message:
            nonlocal view
            view, message = await self.staff.send_in_case(
                view,
                lambda place: bot.send_message(
                    chat_id=staff_chat, text=body, link_preview_options=NO_PREVIEW, **place
                ),
            )
            sent.append(message)
            return message

        if media and ref.get("message_id") and item.address:
            caption = content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text).strip()
            extra: dict[str, Any] = {}
            if media in CAPTIONABLE and len(caption) <= MAX_CAPTION:
                extra["caption"] = caption

            async def copy_in() -> Any:
                nonlocal view
                try:
                    view, message = await self.staff.send_in_case(
                        view,
                        lambda place: bot.copy_message(
                            chat_id=staff_chat,
                            from_chat_id=int(item.address or 0),
                            message_id=int(ref["message_id"]),
                            **extra,
                            **place,
                        ),
                    )
                except TelegramBadRequest as exc:
                    if not message_gone(exc):
                        raise
                    kind = content.t(f"tg.media.{media}", lang) if content.has(f"tg.media.{media}") else media
                    return await post_text(
                        content.t("tg.relay.media_gone", lang, case=view.id, sender=sender, media=kind)
                    )
                sent.append(message)
                return message

            parts: list[Callable[[], Awaitable[Any]]] = [copy_in]
            if text and "caption" not in extra:
                parts.append(
                    lambda: post_text(
                        split_text(content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text))[0]
                    )
                )
        else:
            body = content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text or "…")
            chunks = split_text(body)
            if len(chunks) > MAX_RELAY_PARTS:  # a huge message must not eat the staff chat's minute
                chunks = [*chunks[: MAX_RELAY_PARTS - 1], chunks[MAX_RELAY_PARTS - 1][: MAX_TEXT - 2] + " …"]
            parts = [lambda chunk=chunk: post_text(chunk) for chunk in chunks]
        await self._parts(item, parts)
        for message in sent:
            await links.record(
                self.app.sessions,
                view.id,
                message.message_id,
                person_message_id=ref.get("message_id"),
                direction="in",
            )
        last = sent[-1] if sent else None
        return {"message_id": getattr(last, "message_id", None)}

    async def _notice(self, item: Delivery) -> dict[str, Any]:
        """A short answer to a counsellor (a command's result, "claim first", ...)."""
        bot = self.channel.bot
        payload = item.payload
        html = bool(payload.get("html") or payload.get("pre"))
        thread_id = payload.get("thread_id") if await self.staff.forum() else None
        reply_to = payload.get("reply_to")
        if payload.get("pre"):  # a table: monospaced, each part on its own
            chunks = [
                f"<pre>{escape(c)}</pre>" for c in split_text(payload.get("text") or "", MAX_TEXT - 200)
            ]
        else:
            chunks = split_text(payload.get("text") or "")
        if not chunks:
            return {"skipped": "empty"}

        def part(chunk: str) -> Callable[[], Awaitable[Message]]:
            async def send() -> Message:
                extra: dict[str, Any] = {}
                if reply_to:
                    extra["reply_parameters"] = ReplyParameters(
                        message_id=int(reply_to), allow_sending_without_reply=True
                    )
                await self._acquire_staff()
                try:
                    return await bot.send_message(
                        chat_id=self.staff.chat_id,
                        text=chunk,
                        parse_mode="HTML" if html else None,
                        message_thread_id=thread_id,
                        link_preview_options=NO_PREVIEW,
                        **extra,
                    )
                except TelegramBadRequest as exc:
                    if thread_id is None or "thread" not in error_text(exc):
                        raise
                    return await bot.send_message(
                        chat_id=self.staff.chat_id,
                        text=chunk,
                        parse_mode="HTML" if html else None,
                        link_preview_options=NO_PREVIEW,
                    )

            return send

        message = await self._parts(item, [part(c) for c in chunks])
        return {"message_id": message.message_id if message else None}
