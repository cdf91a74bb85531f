"""The people's side: private chats only. Everything goes to the engine as an ``Inbound``; the engine
answers through the outbox. In any other chat but the staff chat the bot stays silent."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.pipeline import CHANNEL, Ticket
from bot.domain import Inbound

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

MEDIA_KINDS = (
    "photo",
    "voice",
    "sticker",
    "document",
    "video",
    "audio",
    "animation",
    "video_note",
    "location",
    "contact",
    "venue",
    "poll",
    "dice",
)


def media_kind(message: Message) -> str | None:
    """The kind of non-text content a message carries (an animation also fills ``document``)."""
    if message.animation is not None:
        return "animation"
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None):
            return kind
    return None


class StartThrottle:
    """A flood of /start from one person: answer the first, skip repeats within the cooldown."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._last: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        now = time.monotonic()
        last = self._last.get(user_id)
        if last is not None and now - last < self.cooldown:
            return False
        self._last[user_id] = now
        if len(self._last) > 10_000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.cooldown}
        return True


def _is_start(text: str | None) -> bool:
    if not text or not text.startswith("/"):
        return False
    return text.split(maxsplit=1)[0].split("@", 1)[0].lower() == "/start"


async def on_message(message: Message, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    text = message.text if message.text is not None else message.caption
    media = media_kind(message)
    if text is None and media is None:
        return  # a service message (pinned, ...): nothing to say
    if _is_start(text) and not channel.start_throttle.allow(user.id):
        return  # repeated /start: answered a moment ago (and never a topic or a case)
    await channel.handle(
        Inbound(
            channel=CHANNEL,
            user_id=str(user.id),
            address=str(message.chat.id),
            text=text,
            language_hint=user.language_code,
            external_id=journal_ticket.external_id,
            media=media,
            media_ref={"message_id": message.message_id},
        ),
        journal_ticket,
    )


async def on_button(query: CallbackQuery, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    if query.data and query.message is not None and not query.from_user.is_bot:
        await channel.handle(
            Inbound(
                channel=CHANNEL,
                user_id=str(query.from_user.id),
                address=str(query.message.chat.id),
                button=query.data,
                language_hint=query.from_user.language_code,
                external_id=journal_ticket.external_id,
            ),
            journal_ticket,
        )
    await answer_quietly(query)


async def answer_quietly(query: CallbackQuery, text: str | None = None, **kw: Any) -> None:
    """Stop the button's spinner; a failure here (e.g. the query expired) changes nothing."""
    try:
        await query.answer(text=text[:200] if text else None, **kw)  # Telegram allows 200 characters
    except TelegramAPIError:
        pass


def make_router() -> Router:
    router = Router(name="telegram-user")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(on_message)
    router.callback_query.register(on_button)
    return router
