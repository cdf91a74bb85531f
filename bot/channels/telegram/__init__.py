"""The Telegram channel (aiogram 3): people in private chats, counsellors in a staff group.

``TelegramChannel(app)`` wires it together: the inbox pipeline (``pipeline``), the people's router
(``user``), the staff chat's router (``staff``), the outbox worker (``delivery`` with ``render`` and
``errors``), and long polling (``polling``) or a webhook route on the bot's HTTP server
(``webhook``). Every loop runs under ``bot.jobs.supervise``: it survives any error, and a loop that
stops beating makes ``/healthz`` unhealthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    Message,
)

from bot.app import App
from bot.channels.telegram import staff, user
from bot.channels.telegram.delivery import Sender
from bot.channels.telegram.options import Pacing, TelegramOptions, Window
from bot.channels.telegram.pipeline import CHANNEL, Ticket, UpdatePipeline
from bot.channels.telegram.polling import run_polling
from bot.channels.telegram.refs import Refs
from bot.channels.telegram.staff import StaffGate
from bot.channels.telegram.user import StartThrottle
from bot.deliveries import StaffNotice
from bot.domain import Inbound, Outcome
from bot.jobs import Loops, describe
from bot.storage.outbox import backoff

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "Pacing", "TelegramChannel", "TelegramOptions", "Window"]

PERSON_COMMANDS = ("start", "help", "menu", "human", "lang", "forget")
STAFF_COMMANDS = (("queue", "tg.cmd.queue"), ("report", "tg.cmd.report"), ("help", "tg.cmd.staff_help"))

# aiogram warns about update types it does not know with the whole raw update (a person's words and
# ids) on stderr; the pipeline logs such updates itself, without their content.
warnings.filterwarnings("ignore", message="Detected unknown update type", category=RuntimeWarning)


class TelegramChannel:
    """The running Telegram channel. ``start()`` / ``stop()``; tests pass ``base_url`` and ``options``."""

    def __init__(
        self,
        app: App,
        *,
        base_url: str | None = None,
        options: TelegramOptions | None = None,
        bot: Bot | None = None,
        webhook: bool | None = None,
    ) -> None:
        settings = app.settings
        if not settings.telegram_bot_token or settings.telegram_staff_chat_id is None:
            raise ValueError("TELEGRAM_BOT_TOKEN and TELEGRAM_STAFF_CHAT_ID are required")
        self.app = app
        self.options = options or TelegramOptions(
            pacing=Pacing() if settings.telegram_pacing else Pacing.unlimited()
        )
        self.base_url = (base_url or settings.telegram_api_url).rstrip("/")
        self.staff_chat_id: int = settings.telegram_staff_chat_id
        self.staff_lang = settings.telegram_staff_language or "az"
        self.webhook = bool(settings.telegram_webhook_url) if webhook is None else webhook
        self._own_bot = bot is None
        self.bot = bot or Bot(
            settings.telegram_bot_token,
            session=AiohttpSession(
                api=TelegramAPIServer.from_base(self.base_url), timeout=self.options.request_timeout
            ),
        )
        self.refs = Refs(app.db)
        self.gate = StaffGate(self, self.options.member_cache_seconds)
        self.start_throttle = StartThrottle(self.options.start_cooldown)
        self.dispatcher = Dispatcher(channel=self)
        self.dispatcher.include_router(staff.make_router())
        self.dispatcher.include_router(user.make_router())
        self.pipeline = UpdatePipeline(self)
        self.sender = Sender(self)
        self._forum: bool | None = None
        self._forum_lock = asyncio.Lock()
        self._loops = Loops(self.app.health, base=self.options.backoff_base, cap=self.options.backoff_cap)
        self.bot_username: str | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    def attach(self, http: HttpServer) -> None:
        """Webhook mode: add the webhook's route to the bot's HTTP server (before it starts)."""
        if self.webhook:
            from bot.channels.telegram.webhook import add_webhook_route

            settings = self.app.settings
            add_webhook_route(
                self, http.web, settings.telegram_webhook_url or "", settings.telegram_webhook_secret
            )

    async def start(self) -> None:
        me = await self._until_ok(self.bot.get_me, "getMe")
        self.bot_username = me.username
        try:
            await self.staff_is_forum()
        except TelegramAPIError as exc:  # the sender asks again before it posts to the staff chat
            log.warning("could not look at the staff chat yet (%s)", type(exc).__name__)
        await self._check_rights(me.id)
        if self.options.set_commands:
            await self._set_commands()
        stale = max(120.0, self.options.poll_timeout * 3 + self.options.request_timeout)
        self._loops.spawn("telegram-sender", self.sender.run, stale)
        self._loops.spawn("telegram-acks", self.sender.run_acks, float("inf"))
        self._loops.spawn(
            "telegram-replay", self.pipeline.replay_loop, max(120.0, self.options.replay_interval * 6)
        )
        if self.webhook:
            from bot.channels.telegram.webhook import register_webhook

            settings = self.app.settings
            await self._until_ok(
                lambda: register_webhook(
                    self, settings.telegram_webhook_url or "", settings.telegram_webhook_secret
                ),
                "setWebhook",
            )
        else:
            await self._until_ok(lambda: self.bot.delete_webhook(drop_pending_updates=False), "deleteWebhook")
            self._loops.spawn("telegram-polling", lambda: run_polling(self), stale)
        log.info(
            "telegram channel started (%s, staff chat %s)",
            "webhook" if self.webhook else "polling",
            "forum" if self._forum else "group",
        )

    async def stop(self) -> None:
        """Stop taking updates, finish those in hand (for a short while), give back unsent items."""
        await self._shutdown(tidy=True)

    async def abort(self) -> None:
        """Stop at once without tidying up, as a crash would (for tests of the recovery)."""
        await self._shutdown(tidy=False)

    async def _shutdown(self, tidy: bool) -> None:
        await self._loops.stop()
        if tidy:
            await self.pipeline.drain(self.options.drain_timeout)
        await self.pipeline.stop()
        await self.sender.stop(release=tidy)
        if self._own_bot:
            await self.bot.session.close()

    async def _until_ok(self, call: Any, what: str) -> Any:
        failures = 0
        while True:
            try:
                return await call()
            except TelegramUnauthorizedError:
                raise
            except Exception as exc:  # network, 5xx, an HTML error page ...: Telegram comes back
                failures += 1
                log.warning("%s failed (%s); retrying", what, describe(exc))
                await asyncio.sleep(backoff(failures, self.options.backoff_base, self.options.backoff_cap))

    async def staff_is_forum(self) -> bool:
        """Is the staff chat a forum (topics on)? Asked once; raises while Telegram cannot answer."""
        if self._forum is None:
            async with self._forum_lock:
                if self._forum is None:
                    chat = await self.bot.get_chat(self.staff_chat_id)
                    self._forum = bool(chat.is_forum)
                    if chat.type != "supergroup":
                        log.warning("the staff chat is not a supergroup: convert it (see the README)")
        return self._forum

    async def _check_rights(self, bot_id: int) -> None:
        try:
            member = await self.bot.get_chat_member(self.staff_chat_id, bot_id)
        except TelegramAPIError as exc:
            log.warning("could not check the bot's rights in the staff chat (%s)", type(exc).__name__)
            return
        if member.status != "administrator":
            log.warning("the bot is not an admin of the staff chat: it may not see counsellors' messages")
        elif self._forum and not getattr(member, "can_manage_topics", False):
            log.warning("the bot may not manage topics in the staff chat: give it that right")

    async def _set_commands(self) -> None:
        content = self.app.content
        try:
            for lang in ("az", "ru", "en"):
                commands = [
                    BotCommand(command=c, description=content.t(f"tg.cmd.{c}", lang)) for c in PERSON_COMMANDS
                ]
                await self.bot.set_my_commands(
                    commands,
                    scope=BotCommandScopeAllPrivateChats(),
                    language_code=None if lang == "az" else lang,
                )
            staff_commands = [
                BotCommand(command=c, description=content.t(key, self.staff_lang))
                for c, key in STAFF_COMMANDS
            ]
            await self.bot.set_my_commands(
                staff_commands, scope=BotCommandScopeChat(chat_id=self.staff_chat_id)
            )
        except TelegramAPIError as exc:
            log.warning("could not set the command menus (%s)", type(exc).__name__)

    # ---- used by the routers -------------------------------------------------------------------
    async def handle(self, inbound: Inbound, ticket: Ticket) -> Outcome:
        outcome = await self.app.engine.handle(inbound)
        ticket.done = True
        self.wake_sender()
        return outcome

    def wake_sender(self) -> None:
        self.sender.wake()

    wake = wake_sender

    async def notify_staff(
        self, text: str, about: Message | None = None, html: bool = False, pre: bool = False
    ) -> None:
        """A short message to the staff chat (through the outbox), next to ``about``. ``pre``: a
        table, shown monospaced."""
        notice = StaffNotice(text=text, html=html, pre=pre)
        if about is not None:
            thread = about.message_thread_id if about.is_topic_message and about.message_thread_id else None
            notice = StaffNotice(text=text, html=html, pre=pre, reply_to=about.message_id, thread_id=thread)
        await self.app.outbox.enqueue_staff(CHANNEL, notice)
        self.wake_sender()

    async def edit_markup(self, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
        """Change the buttons under a staff-chat message (e.g. the card offers the outcomes)."""
        with contextlib.suppress(TelegramAPIError):
            await self.bot.edit_message_reply_markup(
                chat_id=self.staff_chat_id, message_id=message_id, reply_markup=markup
            )
