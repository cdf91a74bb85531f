"""The staff chat: case buttons (claim, close, release), the relay from a case's topic (or from a
reply to its card) to the person, and the commands /queue, /report and /help.

Only updates from the chat TELEGRAM_STAFF_CHAT_ID reach this router, and only current members of
that chat (checked with getChatMember, cached briefly) can act. Nothing a person writes to the bot
in private can reach it.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, User

from bot.channels.telegram import cards, links
from bot.channels.telegram.sender import describe
from bot.channels.telegram.user import answer_quietly, media_kind
from bot.staff import REASON_KEYS, ActionResult, CaseView, StaffMember
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

PRESENT = ("creator", "administrator", "member")
CASE_BUTTON = re.compile(r"^(claim|close|release):(\d{1,18})$")


def display_name(user: User) -> str:
    """How a counsellor appears to colleagues (never to the person): first name and initial."""
    name = user.first_name or "?"
    if user.last_name:
        name = f"{name} {user.last_name[:1]}."
    return name[:64]


class StaffGate:
    """Is this user a member of the staff chat now? (getChatMember, cached for a short while)."""

    def __init__(self, channel: TelegramChannel, ttl: float) -> None:
        self.channel = channel
        self.ttl = ttl
        self._cache: dict[int, tuple[float, bool]] = {}

    async def member(self, user: User | None) -> StaffMember | None:
        if user is None or user.is_bot:
            return None
        now = time.monotonic()
        cached = self._cache.get(user.id)
        if cached is not None and cached[0] > now:
            allowed = cached[1]
        else:
            try:
                member = await self.channel.bot.get_chat_member(self.channel.staff_chat_id, user.id)
            except TelegramAPIError as exc:
                log.warning("membership check failed (%s)", type(exc).__name__)
                allowed = cached[1] if cached is not None else False  # fail closed
            else:
                allowed = member.status in PRESENT or (
                    member.status == "restricted" and bool(getattr(member, "is_member", False))
                )
                self._cache[user.id] = (now + self.ttl, allowed)
        return StaffMember(id=str(user.id), name=display_name(user)) if allowed else None

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)


def make_staff_router(channel: TelegramChannel) -> Router:
    router = Router(name="telegram-staff")
    router.message.filter(lambda message: message.chat.id == channel.staff_chat_id)
    router.callback_query.filter(
        lambda query: query.message is not None and query.message.chat.id == channel.staff_chat_id
    )
    gate = channel.gate
    app = channel.app

    def t(key: str, **kw: object) -> str:
        return app.content.t(key, channel.staff_lang, **kw)

    def refusal(result: ActionResult, case_id: int) -> str:
        if result.reason == "not_open" and result.case is not None and result.case.status == "queued":
            return t("tg.reply.claim_first", case=case_id)
        holder = result.holder or (result.case.assignee_name if result.case is not None else None)
        return t(REASON_KEYS.get(result.reason, "staff.not_open"), case=case_id, name=holder or "?")

    # ---- buttons on cards and reminders --------------------------------------------------------
    @router.callback_query(F.data.regexp(CASE_BUTTON))
    async def on_case_button(query: CallbackQuery) -> None:
        staff = await gate.member(query.from_user)
        if staff is None:
            await answer_quietly(query, t("tg.staff.not_member"), show_alert=True)
            return
        match = CASE_BUTTON.match(query.data or "")
        assert match is not None
        action, case_id = match.group(1), int(match.group(2))
        desk = app.desk
        if action == "claim":
            result = await desk.claim(case_id, staff)
        elif action == "close":
            result = await desk.close(case_id, staff)
        else:
            result = await desk.release(case_id, staff)
        channel.wake_sender()
        if result.ok:
            log.info("case %s: %s", case_id, action)
            await answer_quietly(query, t(f"staff.done.{action}", case=case_id))
        else:
            await answer_quietly(
                query, refusal(result, case_id), show_alert=result.reason == "already_claimed"
            )

    @router.callback_query()
    async def on_other_button(query: CallbackQuery) -> None:
        await answer_quietly(query)

    # ---- commands ------------------------------------------------------------------------------
    @router.message(Command("queue"))
    async def on_queue(message: Message) -> None:
        if await _staff_or_none(message) is None:
            return
        views = await app.desk.queue()
        text = cards.queue_text(
            app.content,
            views,
            channel.staff_lang,
            utcnow(),
            channel.staff_chat_id,
            await channel.staff_is_forum(),
        )
        await channel.notify_staff(text, message, html=True)

    @router.message(Command("report"))
    async def on_report(message: Message, command: CommandObject) -> None:
        if await _staff_or_none(message) is None:
            return
        try:
            from bot.reports import staff_report

            text = await staff_report(app, command.args or "", lang=channel.staff_lang)
        except Exception as exc:
            log.error("staff report failed: %s", describe(exc))
            await channel.notify_staff(t("tg.report.failed"), message)
            return
        await channel.notify_staff(text, message, pre=True)

    @router.message(Command("help", "start"))
    async def on_help(message: Message) -> None:
        if await _staff_or_none(message) is None:
            return
        await channel.notify_staff(t("tg.staff.help"), message)

    # ---- the relay: a counsellor's words to the person -----------------------------------------
    @router.message()
    async def on_staff_message(message: Message) -> None:
        if message.from_user is None or message.from_user.is_bot:
            return
        text = message.text if message.text is not None else message.caption
        media = media_kind(message)
        if text is None and media is None:
            return  # service messages: topic created, member joined, pinned...
        if media is None and text is not None and text.startswith("/"):
            return  # an unknown command is never relayed
        view = await _case_of(message)
        if view is None:
            return  # ordinary talk among counsellors
        if message.sender_chat is not None:  # an anonymous admin: we cannot tell who it is
            await channel.notify_staff(t("tg.staff.anonymous"), message)
            return
        staff = await gate.member(message.from_user)
        if staff is None:
            return
        if media:
            result = await app.desk.reply(
                view.id,
                staff,
                text=text,
                media=media,
                media_ref={"from_chat_id": channel.staff_chat_id, "message_id": message.message_id},
            )
        else:
            result = await app.desk.reply(view.id, staff, text=text)
        if result.ok:
            channel.wake_sender()
        else:
            await channel.notify_staff(refusal(result, view.id), message)

    async def _staff_or_none(message: Message) -> StaffMember | None:
        if message.sender_chat is not None:
            return None
        return await gate.member(message.from_user)

    async def _case_of(message: Message) -> CaseView | None:
        """The case a counsellor's message belongs to: its topic, or a reply to its card/messages."""
        if message.is_topic_message and message.message_thread_id and await channel.staff_is_forum():
            view = await app.desk.case_by_thread(message.message_thread_id)
            if view is not None:
                return view
        reply = message.reply_to_message
        if reply is None or reply.forum_topic_created is not None:
            return None
        view = await app.desk.case_by_card(reply.message_id)
        if view is not None:
            return view
        case_id = await links.case_for_staff_message(app.sessions, reply.message_id)
        return await app.desk.case(case_id, messages=0) if case_id is not None else None

    return router
