"""The staff chat: case buttons (claim, close with an outcome, release, the triage review), the relay
from a case's topic (or from a reply to its card) to the person, and the commands /queue, /report
and /help.

Only updates from the chat TELEGRAM_STAFF_CHAT_ID reach this router, and only current members of
that chat who may write there (administrators and members; not restricted or departed ones; checked
with getChatMember, cached briefly) can act. Nothing a person writes to the bot in private can reach
it. Every action carries the update's id, so a duplicate delivery does nothing twice.
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

from bot import lifecycle
from bot.channels.telegram import cards
from bot.channels.telegram.pipeline import Ticket
from bot.channels.telegram.user import answer_quietly, media_kind
from bot.domain import Category, Risk, StaffMember
from bot.jobs import describe
from bot.staff import ActionResult, refusal_text
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

PRESENT = ("creator", "administrator", "member")
CASE_BUTTON = re.compile(r"^(claim|close|release|back):(\d{1,18})$")
OUTCOME_BUTTON = re.compile(r"^out:(\d{1,18}):(\d{1,2})$")
REVIEW_BUTTON = re.compile(r"^rv:(\d{1,18}):([rc]):([a-z_]{1,24})$")


def display_name(user: User) -> str:
    """How a counsellor appears to colleagues (never to the person): first name and initial."""
    name = user.first_name or "?"
    if user.last_name:
        name = f"{name} {user.last_name[:1]}."
    return name[:64]


class StaffGate:
    """Is this user a member of the staff chat who may act now? (getChatMember, cached briefly)."""

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
                allowed = member.status in PRESENT  # restricted (muted), left or banned: no
                self._cache[user.id] = (now + self.ttl, allowed)
        return StaffMember(id=f"telegram:{user.id}", name=display_name(user)) if allowed else None

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)


def _in_staff_chat(channel: TelegramChannel, chat_id: int | None) -> bool:
    return chat_id == channel.staff_chat_id


def _t(channel: TelegramChannel, key: str, **kw: object) -> str:
    return channel.app.content.t(key, channel.staff_lang, **kw)


def _refusal(channel: TelegramChannel, result: ActionResult, case_id: int, staff: StaffMember) -> str:
    return refusal_text(channel.app.content, result, case_id, channel.staff_lang, staff)


async def _done(channel: TelegramChannel, ticket: Ticket, result: ActionResult) -> None:
    if result.ok or result.duplicate:
        ticket.done = True
        channel.wake_sender()


# ---- buttons on cards, alerts and reminders ----------------------------------------------------------
async def on_case_button(query: CallbackQuery, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    staff = await channel.gate.member(query.from_user)
    if staff is None:
        await answer_quietly(query, _t(channel, "tg.staff.not_member"), show_alert=True)
        return
    match = CASE_BUTTON.match(query.data or "")
    assert match is not None
    action, case_id = match.group(1), int(match.group(2))
    desk = channel.app.desk
    if action == "back":  # leave the outcome choice: the card's own buttons again
        view = await desk.case(case_id, messages=0)
        if view is not None and query.message is not None:
            markup = cards.card_markup(channel.app.content, view, channel.staff_lang)
            await channel.edit_markup(query.message.message_id, markup)
        await answer_quietly(query)
        return
    if action == "claim":
        result = await desk.claim(case_id, staff, update_id=journal_ticket.external_id)
    elif action == "release":
        result = await desk.release(case_id, staff, update_id=journal_ticket.external_id)
    else:
        result = await desk.close(case_id, staff, None)
        if result.refusal == lifecycle.Refusal.OUTCOME_NEEDED and query.message is not None:
            await channel.edit_markup(
                query.message.message_id,
                cards.outcome_markup(channel.app.content, case_id, channel.staff_lang),
            )
            await answer_quietly(query, _t(channel, "staff.close.choose", case=case_id))
            return
    await _done(channel, journal_ticket, result)
    if result.duplicate:
        await answer_quietly(query)
    elif result.ok:
        log.info("case %s: %s", case_id, action)
        await answer_quietly(query, _t(channel, f"staff.done.{action}", case=case_id))
    else:
        await answer_quietly(
            query,
            _refusal(channel, result, case_id, staff),
            show_alert=result.refusal in (lifecycle.Refusal.ALREADY_CLAIMED, lifecycle.Refusal.CLAIM_FIRST),
        )


async def on_outcome(query: CallbackQuery, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    staff = await channel.gate.member(query.from_user)
    if staff is None:
        await answer_quietly(query, _t(channel, "tg.staff.not_member"), show_alert=True)
        return
    match = OUTCOME_BUTTON.match(query.data or "")
    assert match is not None
    case_id, index = int(match.group(1)), int(match.group(2))
    if index >= len(lifecycle.COUNSELLOR_OUTCOMES):
        await answer_quietly(query)
        return
    outcome = lifecycle.COUNSELLOR_OUTCOMES[index]
    result = await channel.app.desk.close(case_id, staff, outcome, update_id=journal_ticket.external_id)
    await _done(channel, journal_ticket, result)
    if result.ok:
        log.info("case %s: closed", case_id)
        await answer_quietly(query, _t(channel, "staff.done.close", case=case_id))
    elif not result.duplicate:
        await answer_quietly(query, _refusal(channel, result, case_id, staff), show_alert=True)


async def on_review(query: CallbackQuery, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    staff = await channel.gate.member(query.from_user)
    if staff is None:
        await answer_quietly(query, _t(channel, "tg.staff.not_member"), show_alert=True)
        return
    match = REVIEW_BUTTON.match(query.data or "")
    assert match is not None
    case_id, what, value = int(match.group(1)), match.group(2), match.group(3)
    valid = {r.value for r in Risk} if what == "r" else {c.value for c in Category}
    if value not in valid:
        await answer_quietly(query)
        return
    desk = channel.app.desk
    if what == "r":
        result = await desk.review(case_id, staff, risk=value)
    else:
        result = await desk.review(case_id, staff, category=value)
    if not result.ok:
        await answer_quietly(query, _refusal(channel, result, case_id, staff))
        return
    view = await desk.case(case_id, messages=0)
    if view is not None and query.message is not None:
        await channel.edit_markup(
            query.message.message_id, cards.review_markup(channel.app.content, view, channel.staff_lang)
        )
    await answer_quietly(query, _t(channel, "staff.review.done", case=case_id))


async def on_other_button(query: CallbackQuery) -> None:
    await answer_quietly(query)


# ---- commands ------------------------------------------------------------------------------------
async def _staff_or_none(channel: TelegramChannel, message: Message) -> StaffMember | None:
    if message.sender_chat is not None:
        return None
    return await channel.gate.member(message.from_user)


async def on_queue(message: Message, channel: TelegramChannel) -> None:
    if await _staff_or_none(channel, message) is None:
        return
    views = await channel.app.desk.queue()
    forum = await channel.staff_is_forum()
    threads = {v.id: (await channel.refs.get(v.id))[0] if forum else None for v in views}
    text = cards.queue_text(
        channel.app.content, views, channel.staff_lang, utcnow(), channel.staff_chat_id, threads
    )
    await channel.notify_staff(text, message, html=True)


async def on_report(message: Message, command: CommandObject, channel: TelegramChannel) -> None:
    if await _staff_or_none(channel, message) is None:
        return
    try:
        from bot.reports import staff_report

        text = await staff_report(channel.app, command.args or "", lang=channel.staff_lang)
    except Exception as exc:
        log.error("staff report failed: %s", describe(exc))
        await channel.notify_staff(_t(channel, "tg.report.failed"), message)
        return
    await channel.notify_staff(text, message, pre=True)


async def on_help(message: Message, channel: TelegramChannel) -> None:
    if await _staff_or_none(channel, message) is None:
        return
    await channel.notify_staff(_t(channel, "tg.staff.help"), message)


# ---- the relay: a counsellor's words to the person -------------------------------------------------
async def on_staff_message(message: Message, channel: TelegramChannel, journal_ticket: Ticket) -> None:
    if message.from_user is None or message.from_user.is_bot:
        return
    text = message.text if message.text is not None else message.caption
    media = media_kind(message)
    if text is None and media is None:
        return  # service messages: topic created, member joined, pinned...
    if media is None and text is not None and text.startswith("/"):
        return  # an unknown command is never relayed
    case_id = await _case_of(channel, message)
    if case_id is None:
        return  # ordinary talk among counsellors
    if message.sender_chat is not None:  # an anonymous admin: we cannot tell who it is
        await channel.notify_staff(_t(channel, "tg.staff.anonymous"), message)
        return
    staff = await channel.gate.member(message.from_user)
    if staff is None:
        return
    desk = channel.app.desk
    if media:
        ref = {"from_chat_id": channel.staff_chat_id, "message_id": message.message_id}
        result = await desk.reply(
            case_id, staff, text=text, media=media, media_ref=ref, update_id=journal_ticket.external_id
        )
    else:
        result = await desk.reply(case_id, staff, text=text, update_id=journal_ticket.external_id)
    await _done(channel, journal_ticket, result)
    if not result.ok and not result.duplicate:
        await channel.notify_staff(_refusal(channel, result, case_id, staff), message)


async def _case_of(channel: TelegramChannel, message: Message) -> int | None:
    """The case a counsellor's message belongs to: its topic, or a reply to its card or messages."""
    if message.is_topic_message and message.message_thread_id and await channel.staff_is_forum():
        case_id = await channel.refs.case_by_thread(message.message_thread_id)
        if case_id is not None:
            return case_id
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    return await channel.refs.case_by_message(reply.message_id)


def make_router() -> Router:
    """The staff chat's router: the handlers above, only for the staff chat."""
    router = Router(name="telegram-staff")
    router.message.filter(lambda message, channel: _in_staff_chat(channel, message.chat.id))
    router.callback_query.filter(
        lambda callback_query, channel: (
            callback_query.message is not None and _in_staff_chat(channel, callback_query.message.chat.id)
        )
    )
    router.callback_query.register(on_case_button, F.data.regexp(CASE_BUTTON))
    router.callback_query.register(on_outcome, F.data.regexp(OUTCOME_BUTTON))
    router.callback_query.register(on_review, F.data.regexp(REVIEW_BUTTON))
    router.callback_query.register(on_other_button)
    router.message.register(on_queue, Command("queue"))
    router.message.register(on_report, Command("report"))
    router.message.register(on_help, Command("help", "start"))
    router.message.register(on_staff_message)
    return router
