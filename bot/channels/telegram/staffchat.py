"""The case's place in the staff chat: its forum topic (in forum mode) and its card.

A topic is created only when a case reaches the staff chat (never on /start). A topic deleted by a
human is re-created with a fresh card and the message is sent again. Used by the sender only, so
one case is never worked on twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LinkPreviewOptions, Message, MessageId, ReplyParameters

from bot import lifecycle
from bot.channels.telegram import cards
from bot.channels.telegram.errors import message_gone, not_modified, thread_gone
from bot.staff import CaseView
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class StaffChat:
    def __init__(self, channel: TelegramChannel, acquire: Callable[[], Awaitable[None]]) -> None:
        self.channel = channel
        self.refs = channel.refs
        self.acquire = acquire  # waits for the staff chat's pacing before a message is posted

    @property
    def chat_id(self) -> int:
        return self.channel.staff_chat_id

    @property
    def lang(self) -> str:
        return self.channel.staff_lang

    async def forum(self) -> bool:
        return await self.channel.staff_is_forum()

    # ---- cards and topics ----------------------------------------------------------------------
    async def _create_topic(self, view: CaseView) -> int:
        content = self.channel.app.content
        await self.acquire()  # a new topic posts a service message into the chat
        topic = await self.channel.bot.create_forum_topic(
            chat_id=self.chat_id,
            name=cards.topic_name(content, view, self.lang),
            icon_color=cards.topic_color(view),
        )
        await self.refs.set(view.id, thread_id=topic.message_thread_id, card=None)
        log.info("case %s: topic created", view.id)
        return topic.message_thread_id

    async def _post_card(self, view: CaseView, thread_id: int | None) -> tuple[int | None, int]:
        forum = await self.forum()
        content = self.channel.app.content
        for attempt in range(2):
            try:
                await self.acquire()
                message = await self.channel.bot.send_message(
                    chat_id=self.chat_id,
                    text=cards.card_text(content, view, self.lang, utcnow(), forum),
                    parse_mode="HTML",
                    reply_markup=cards.card_markup(content, view, self.lang),
                    message_thread_id=thread_id if forum else None,
                    link_preview_options=NO_PREVIEW,
                )
                break
            except TelegramBadRequest as exc:
                if forum and attempt == 0 and thread_gone(exc):
                    log.warning("case %s: its topic was deleted; creating a new one", view.id)
                    thread_id = await self._create_topic(view)
                    continue
                raise
        await self.refs.set(view.id, card=message.message_id)
        log.info("case %s: card posted", view.id)
        return thread_id, message.message_id

    async def ensure_case(self, view: CaseView) -> tuple[int | None, int]:
        """The case's topic (forum) and card exist afterwards: (thread id, card message id)."""
        thread_id, card = await self.refs.get(view.id)
        if await self.forum() and thread_id is None:
            thread_id = await self._create_topic(view)
            return await self._post_card(view, thread_id)
        if card is None:
            return await self._post_card(view, thread_id)
        return thread_id, card

    async def update_card(self, view: CaseView) -> None:
        """Show the case's current state on its card (a new card if the old one is gone)."""
        thread_id, card = await self.refs.get(view.id)
        if card is None:
            await self.ensure_case(view)
            return
        content = self.channel.app.content
        try:
            await self.channel.bot.edit_message_text(
                text=cards.card_text(content, view, self.lang, utcnow(), await self.forum()),
                chat_id=self.chat_id,
                message_id=card,
                parse_mode="HTML",
                reply_markup=cards.card_markup(content, view, self.lang),
                link_preview_options=NO_PREVIEW,
            )
        except TelegramBadRequest as exc:
            if not_modified(exc):
                return
            if message_gone(exc) or thread_gone(exc):
                log.warning("case %s: its card was deleted; posting a new one", view.id)
                await self._post_card(view, thread_id)
                return
            raise

    async def sync_topic(self, view: CaseView, reopen: bool = False) -> None:
        """Forum mode: the topic's name follows the case (risk, closed); closing the case closes it."""
        thread_id, _ = await self.refs.get(view.id)
        if not await self.forum() or thread_id is None:
            return
        bot = self.channel.bot
        try:
            await bot.edit_forum_topic(
                chat_id=self.chat_id,
                message_thread_id=thread_id,
                name=cards.topic_name(self.channel.app.content, view, self.lang),
            )
        except TelegramBadRequest as exc:
            if not (not_modified(exc) or thread_gone(exc)):
                raise
        closed = lifecycle.is_closed(view)
        if closed or reopen:
            change = bot.close_forum_topic if closed else bot.reopen_forum_topic
            try:
                await change(chat_id=self.chat_id, message_thread_id=thread_id)
            except TelegramBadRequest as exc:
                if not (not_modified(exc) or thread_gone(exc)):
                    raise

    # ---- sending into a case -------------------------------------------------------------------
    async def place(self, thread_id: int | None, card: int | None) -> dict[str, Any]:
        """Where a message about a case goes: its topic, or a reply to its card."""
        if await self.forum():
            return {"message_thread_id": thread_id}
        if card is not None:
            return {"reply_parameters": ReplyParameters(message_id=card, allow_sending_without_reply=True)}
        return {}

    async def send_in_case(
        self, view: CaseView, send: Callable[[dict[str, Any]], Awaitable[Message | MessageId]]
    ) -> Message | MessageId:
        """Post into the case's place; a deleted topic is re-created (new card) and the post retried."""
        thread_id, card = await self.ensure_case(view)
        try:
            await self.acquire()
            return await send(await self.place(thread_id, card))
        except TelegramBadRequest as exc:
            if not (await self.forum() and thread_gone(exc)):
                raise
        log.warning("case %s: its topic was deleted; creating a new one", view.id)
        thread_id = await self._create_topic(view)
        thread_id, card = await self._post_card(view, thread_id)
        await self.acquire()
        return await send(await self.place(thread_id, card))
