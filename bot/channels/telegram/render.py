"""How each kind of outbox item looks on Telegram: one method per kind (``bot.deliveries``).

The delivery loop (``delivery.py``) decides when an item goes and what an error means; this module
only makes the Bot API calls for one item. An item that takes several messages (a long text, a
label and a copy) goes through ``Sender.parts`` so a retry sends only the parts still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters

from bot import lifecycle
from bot.channels.telegram import cards
from bot.channels.telegram.errors import error_text, message_gone
from bot.channels.telegram.refs import IN, NOTE, QUOTE
from bot.channels.telegram.staffchat import NO_PREVIEW, StaffChat
from bot.deliveries import CaseNote, MediaToPerson, RelayIn, Reminder, StaffNotice, ToPerson, Withdraw
from bot.domain import Risk
from bot.staff import CaseView
from bot.storage.models import utcnow
from bot.storage.outbox import Delivery

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel
    from bot.channels.telegram.delivery import Lane, Sender

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_RELAY_PARTS = 4  # a person's very long message reaches the staff chat cut to this many messages
CAPTIONABLE = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
DELETE_BATCH = 100


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


class Renderer:
    def __init__(self, channel: TelegramChannel, sender: Sender) -> None:
        self.channel = channel
        self.sender = sender
        self.staff = StaffChat(channel, sender.acquire_staff)

    @property
    def bot(self) -> Any:
        return self.channel.bot

    @property
    def lang(self) -> str:
        return self.channel.staff_lang

    async def render(self, lane: Lane, item: Delivery) -> dict[str, Any]:
        payload = item.payload
        if item.target == "person":
            if isinstance(payload, MediaToPerson):
                return await self.media_to_person(lane, item, payload)
            if isinstance(payload, ToPerson):
                return await self.to_person(lane, item, payload)
            return {"skipped": item.kind}
        if isinstance(payload, StaffNotice):
            return await self.notice(item, payload)
        if isinstance(payload, Withdraw):
            return await self.withdraw(payload)
        view = (
            await self.channel.app.desk.case(item.case_id, messages=self.channel.options.card_messages)
            if item.case_id
            else None
        )
        if view is None:
            return {"skipped": "no such case"}
        if isinstance(payload, CaseNote):
            return await self.case_note(payload, view)
        if isinstance(payload, RelayIn):
            return await self.relay_in(item, payload, view)
        if isinstance(payload, Reminder):
            return await self.reminder(view)
        log.warning("unknown staff outbox kind %r", item.kind)
        return {"skipped": item.kind}

    # ---- to a person ---------------------------------------------------------------------------
    async def to_person(self, lane: Lane, item: Delivery, payload: ToPerson) -> dict[str, Any]:
        chunks = split_text(payload.text)
        if not chunks:
            return {"dead": "empty message"}
        markup = keyboard(payload.buttons)

        def part(index: int, chunk: str) -> Callable[[], Awaitable[Message]]:
            async def send() -> Message:
                await self.sender.acquire(lane)
                return await self.bot.send_message(
                    chat_id=lane.chat_id,
                    text=chunk,
                    reply_markup=markup if index == len(chunks) - 1 else None,
                    link_preview_options=NO_PREVIEW,
                )

            return send

        message = await self.sender.parts(item, [part(i, c) for i, c in enumerate(chunks)])
        return {"message_id": message.message_id if message else None}

    async def media_to_person(self, lane: Lane, item: Delivery, payload: MediaToPerson) -> dict[str, Any]:
        """A counsellor's photo, voice, file...: a copy, under the neutral counsellor name."""
        ref = payload.media_ref
        label = payload.label
        with_caption = payload.media in CAPTIONABLE and 0 < len(label) <= MAX_CAPTION

        async def text_first() -> Message:
            await self.sender.acquire(lane)
            return await self.bot.send_message(chat_id=lane.chat_id, text=label[:MAX_TEXT])

        async def copy() -> Any:
            await self.sender.acquire(lane)
            extra: dict[str, Any] = {}
            if with_caption:
                extra["caption"] = label
            elif payload.media in CAPTIONABLE:
                extra["caption"] = ""  # the label went as a text; do not repeat the caption
            try:
                return await self.bot.copy_message(
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
                    return await self.bot.send_message(chat_id=lane.chat_id, text=label[:MAX_TEXT])
                return None

        if not ref.get("message_id") or not ref.get("from_chat_id"):
            return await self.to_person(lane, item, ToPerson(text=label))
        parts: list[Callable[[], Awaitable[Any]]] = [] if (with_caption or not label) else [text_first]
        parts.append(copy)
        result = await self.sender.parts(item, parts)
        return {"message_id": getattr(result, "message_id", None)}

    # ---- to the staff chat: cases --------------------------------------------------------------
    async def case_note(self, note: CaseNote, view: CaseView) -> dict[str, Any]:
        """A case event: a new case gets its topic and card; every later event updates them, and a
        rise of risk or a person leaving is also said in the case's topic."""
        app, content = self.channel.app, self.channel.app.content
        _, card = await self.staff.refs.get(view.id)
        if card is None:
            if not view.open:
                return {"skipped": "never announced"}  # closed before its card went out: nothing to show
            _, card = await self.staff.ensure_case(view)
            await app.desk.mark_announced(view.id)
        else:
            await self.staff.update_card(view)
            await self.staff.sync_topic(view, reopen=note.reason == lifecycle.Reason.RELEASED)
        if note.reason == lifecycle.Reason.RISK_RAISED:
            before = note.event.get("previous_risk") or Risk.NONE.value
            on_duty = await app.desk.on_duty()
            text = cards.raised_text(content, view, self.lang, before, note.excerpt, on_duty)
            markup = cards.claim_markup(content, view, self.lang) if lifecycle.is_queued(view) else None
            await self.note(view, text, markup, html=True, direction=QUOTE if note.excerpt else NOTE)
        elif note.reason == lifecycle.Reason.PERSON_LEFT:
            await self.note(view, cards.left_text(content, view, self.lang))
        elif note.name == "case_closed" and view.outcome not in ("idle", "forgotten") and not view.reviewed:
            await self.note(
                view,
                cards.review_text(content, view, self.lang),
                cards.review_markup(content, view, self.lang),
            )
        return {"card": card}

    async def reminder(self, view: CaseView) -> dict[str, Any]:
        if not lifecycle.is_queued(view):
            return {"skipped": view.status.value}
        content = self.channel.app.content
        text = cards.reminder_text(content, view, self.lang, utcnow())
        message = await self.note(view, text, cards.claim_markup(content, view, self.lang))
        return {"message_id": message.message_id}

    async def note(
        self, view: CaseView, text: str, markup: Any = None, html: bool = False, direction: str = NOTE
    ) -> Any:
        """A note in the case's topic (or under its card), linked to the case for replies."""
        message = await self.staff.send_in_case(
            view,
            lambda place: self.bot.send_message(
                chat_id=self.staff.chat_id,
                text=text,
                reply_markup=markup,
                parse_mode="HTML" if html else None,
                link_preview_options=NO_PREVIEW,
                **place,
            ),
        )
        await self.staff.refs.link(view.id, [message.message_id], direction)
        return message

    async def relay_in(self, item: Delivery, payload: RelayIn, view: CaseView) -> dict[str, Any]:
        """What the person wrote, into the case's topic (or under its card)."""
        content, lang, bot = self.channel.app.content, self.lang, self.bot
        sender = content.t("staff.sender.person", lang)
        text = payload.text
        ref = payload.media_ref
        sent: list[Any] = []

        async def post_text(body: str) -> Any:
            message = await self.staff.send_in_case(
                view,
                lambda place: bot.send_message(
                    chat_id=self.staff.chat_id, text=body, link_preview_options=NO_PREVIEW, **place
                ),
            )
            sent.append(message)
            return message

        parts: list[Callable[[], Awaitable[Any]]]
        if view.channel != CHANNEL and payload.media:  # a photo on Messenger, the web chat ...: say what came
            key = f"tg.media.{payload.media}"
            kind = content.t(key, lang) if content.has(key) else content.t("tg.media.other", lang)
            text = " ".join(filter(None, [f"[{kind}]", text]))
        if view.channel == CHANNEL and payload.media and ref.get("message_id") and item.address:
            caption = content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text).strip()
            extra: dict[str, Any] = {}
            if payload.media in CAPTIONABLE and len(caption) <= MAX_CAPTION:
                extra["caption"] = caption

            async def copy_in() -> Any:
                try:
                    message = await self.staff.send_in_case(
                        view,
                        lambda place: bot.copy_message(
                            chat_id=self.staff.chat_id,
                            from_chat_id=int(item.address or 0),
                            message_id=int(ref["message_id"]),
                            **extra,
                            **place,
                        ),
                    )
                except TelegramBadRequest as exc:
                    if not message_gone(exc):
                        raise
                    key = f"tg.media.{payload.media}"
                    kind = content.t(key, lang) if content.has(key) else content.t("tg.media.other", lang)
                    return await post_text(
                        content.t("tg.relay.media_gone", lang, case=view.id, sender=sender, media=kind)
                    )
                sent.append(message)
                return message

            parts = [copy_in]
            if text and "caption" not in extra:
                body = split_text(content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text))[0]
                parts.append(lambda: post_text(body))
        else:
            body = content.t("tg.relay.in", lang, case=view.id, sender=sender, text=text or "…")
            chunks = split_text(body)
            if len(chunks) > MAX_RELAY_PARTS:  # a huge message must not eat the staff chat's minute
                chunks = [*chunks[: MAX_RELAY_PARTS - 1], chunks[MAX_RELAY_PARTS - 1][: MAX_TEXT - 2] + " …"]
            parts = [lambda chunk=chunk: post_text(chunk) for chunk in chunks]
        await self.sender.parts(item, parts)
        await self.staff.refs.link(
            view.id, [m.message_id for m in sent], IN, person_message_id=ref.get("message_id")
        )
        last = sent[-1] if sent else None
        return {"message_id": getattr(last, "message_id", None)}

    async def withdraw(self, payload: Withdraw) -> dict[str, Any]:
        """The person used /forget: delete their words from the staff chat (relayed copies and
        alerts quoting them); what Telegram will not delete any more is overwritten."""
        refs, bot, chat = self.staff.refs, self.bot, self.staff.chat_id
        ids = sorted(set(await refs.person_words(payload.cases)))
        placeholder = self.channel.app.content.t("tg.withdrawn", self.lang)
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start : start + DELETE_BATCH]
            try:
                await bot.delete_messages(chat_id=chat, message_ids=batch)
                continue
            except TelegramBadRequest:
                pass
            for message_id in batch:
                try:
                    await bot.delete_message(chat_id=chat, message_id=message_id)
                except TelegramBadRequest as exc:
                    if "not found" in error_text(exc):
                        continue
                    try:  # older than 48 hours: Telegram keeps it, so its words are replaced
                        await bot.edit_message_text(chat_id=chat, message_id=message_id, text=placeholder)
                    except TelegramBadRequest:
                        await bot.edit_message_caption(
                            chat_id=chat, message_id=message_id, caption=placeholder
                        )
        await refs.forget_words(payload.cases)
        return {"withdrawn": len(ids)}

    # ---- to the staff chat: answers to counsellors -------------------------------------------------
    async def notice(self, item: Delivery, payload: StaffNotice) -> dict[str, Any]:
        """A short answer to a counsellor (a command's result, "claim first", ...)."""
        html = payload.html or payload.pre
        thread_id = payload.thread_id if await self.staff.forum() else None
        if payload.pre:  # a table: monospaced, each part on its own
            chunks = [f"<pre>{escape(c)}</pre>" for c in split_text(payload.text, MAX_TEXT - 200)]
        else:
            chunks = split_text(payload.text)
        if not chunks:
            return {"skipped": "empty"}

        def part(chunk: str) -> Callable[[], Awaitable[Message]]:
            async def send() -> Message:
                extra: dict[str, Any] = {}
                if payload.reply_to:
                    extra["reply_parameters"] = ReplyParameters(
                        message_id=int(payload.reply_to), allow_sending_without_reply=True
                    )
                await self.sender.acquire_staff()
                try:
                    return await self.bot.send_message(
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
                    return await self.bot.send_message(
                        chat_id=self.staff.chat_id,
                        text=chunk,
                        parse_mode="HTML" if html else None,
                        link_preview_options=NO_PREVIEW,
                    )

            return send

        message = await self.sender.parts(item, [part(c) for c in chunks])
        return {"message_id": message.message_id if message else None}
