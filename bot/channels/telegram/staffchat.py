"""The case's place in the staff chat: its forum topic (in forum mode) and its card.

A topic is created only when a case reaches the staff chat (never on /start). A topic deleted by a
human is re-created with a fresh card and the message is sent again. Used by the sender only, so
one case is never worked on twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LinkPreviewOptions, Message, MessageId, ReplyParameters

from bot.channels.telegram import cards
from bot.staff import CaseView
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def error_text(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).lower()


def thread_gone(exc: Exception) -> bool:
    text = error_text(exc)
    return "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text


def not_modified(exc: Exception) -> bool:
    text = error_text(exc)
    return "not modified" in text or "topic_not_modified" in text


def message_gone(exc: Exception) -> bool:
    text = error_text(exc)
    return "not found" in text and ("to edit" in text or "to copy" in text or "to be replied" in text)


class StaffChat:
    def __init__(self, channel: TelegramChannel, acquire: Callable[[], Awaitable[None]]) -> None:
        self.channel = channel
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
    def _card(self, view: CaseView, forum: bool) -> tuple[str, Any]:
        content = self.channel.app.content
        return (
            cards.card_text(content, view, self.lang, utcnow(), forum),
            cards.card_markup(content, view, self.lang),
        )

    async def _create_topic(self, view: CaseView) -> CaseView:
        content = self.channel.app.content
        await self.acquire()  # a new topic posts a service message into the chat
        topic = await self.channel.bot.create_forum_topic(
            chat_id=self.chat_id,
            name=cards.topic_name(content, view, self.lang),
            icon_color=cards.topic_color(view),
        )
        await self.channel.app.desk.set_staff_refs(view.id, thread_id=topic.message_thread_id)
        log.info("case %s: topic created", view.id)
        return replace(view, staff_thread_id=topic.message_thread_id, staff_card_message_id=None)

    async def _post_card(self, view: CaseView) -> CaseView:
        forum = await self.forum()
        for attempt in range(2):
            text, markup = self._card(view, forum)
            try:
                await self.acquire()
                message = await self.channel.bot.send_message(
                    chat_id=self.chat_id,
                    text=text,
                    parse_mode="HTML",
                    reply_markup=markup,
                    message_thread_id=view.staff_thread_id if forum else None,
                    link_preview_options=NO_PREVIEW,
                )
                break
            except TelegramBadRequest as exc:
                if forum and attempt == 0 and thread_gone(exc):
                    log.warning("case %s: its topic was deleted; creating a new one", view.id)
                    view = await self._create_topic(view)
                    continue
                raise
        await self.channel.app.desk.set_staff_refs(view.id, card_message_id=message.message_id)
        log.info("case %s: card posted", view.id)
        return replace(view, staff_card_message_id=message.message_id)

    async def ensure_case(self, view: CaseView) -> CaseView:
        """The case's topic (forum) and card exist afterwards."""
        if await self.forum() and view.staff_thread_id is None:
            view = await self._create_topic(view)
            return await self._post_card(view)
        if view.staff_card_message_id is None:
            return await self._post_card(view)
        return view

    async def update_card(self, view: CaseView) -> CaseView:
        """Show the case's current state on its card (a new card if the old one is gone)."""
        if view.staff_card_message_id is None:
            return await self.ensure_case(view)
        text, markup = self._card(view, await self.forum())
        try:
            await self.channel.bot.edit_message_text(
                text=text,
                chat_id=self.chat_id,
                message_id=view.staff_card_message_id,
                parse_mode="HTML",
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramBadRequest as exc:
            if not_modified(exc):
                return view
            if message_gone(exc) or thread_gone(exc):
                log.warning("case %s: its card was deleted; posting a new one", view.id)
                return await self._post_card(replace(view, staff_card_message_id=None))
            raise
        return view

    async def sync_topic(self, view: CaseView, reopen: bool = False) -> None:
        """Forum mode: the topic's name follows the case (risk, closed); closing the case closes it."""
        if not await self.forum() or view.staff_thread_id is None:
            return
        bot = self.channel.bot
        try:
            await bot.edit_forum_topic(
                chat_id=self.chat_id,
                message_thread_id=view.staff_thread_id,
                name=cards.topic_name(self.channel.app.content, view, self.lang),
            )
        except TelegramBadRequest as exc:
            if not (not_modified(exc) or thread_gone(exc)):
                raise
        if view.status == "closed" or reopen:
            change = bot.close_forum_topic if view.status == "closed" else bot.reopen_forum_topic
            try:
                await change(chat_id=self.chat_id, message_thread_id=view.staff_thread_id)
            except TelegramBadRequest as exc:
                if not (not_modified(exc) or thread_gone(exc)):
                    raise

    # ---- sending into a case -------------------------------------------------------------------
    async def place(self, view: CaseView) -> dict[str, Any]:
        """Where a message about this case goes: its topic, or a reply to its card."""
        if await self.forum():
            return {"message_thread_id": view.staff_thread_id}
        if view.staff_card_message_id is not None:
            return {
                "reply_parameters": ReplyParameters(
                    message_id=view.staff_card_message_id, allow_sending_without_reply=True
                )
            }
        return {}

    async def send_in_case(
        self, view: CaseView, send: Callable[[dict[str, Any]], Awaitable[Message | MessageId]]
    ) -> tuple[CaseView, Message | MessageId]:
        """Post into the case's place; a deleted topic is re-created (new card) and the post retried."""
        view = await self.ensure_case(view)
        try:
            await self.acquire()
            return view, await send(await self.place(view))
        except TelegramBadRequest as exc:
            if not (await self.forum() and thread_gone(exc)):
                raise
        log.warning("case %s: its topic was deleted; creating a new one", view.id)
        view = await self._create_topic(view)
        view = await self._post_card(view)
        await self.acquire()
        return view, await send(await self.place(view))
