"""The Telegram channel (aiogram 3): people in private chats, counsellors in a staff group.

``TelegramChannel(app)`` wires it together: the update journal and per-chat handling
(``journal``), the people's router (``user``), the staff chat's router (``staff``), the outbox
worker (``sender``), reminders (``reminders``) and long polling (``polling``) or a webhook
(``webhook``). ``run_telegram(app)`` runs it until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Message,
    Update,
)
from aiohttp import web

from bot.app import App
from bot.channels.telegram.journal import CHANNEL, Ticket, UpdatePipeline
from bot.channels.telegram.options import Pacing, TelegramOptions, Window
from bot.channels.telegram.polling import run_polling
from bot.channels.telegram.reminders import remind_once, run_reminders
from bot.channels.telegram.sender import Sender, describe
from bot.channels.telegram.staff import StaffGate, make_staff_router
from bot.channels.telegram.user import make_user_router
from bot.domain import Inbound, Outcome
from bot.outbox import backoff

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "Pacing", "TelegramChannel", "TelegramOptions", "Window", "remind_once", "run_telegram"]

PERSON_COMMANDS = ("start", "help", "menu", "human", "lang", "forget")
STAFF_COMMANDS = (("queue", "tg.cmd.queue"), ("report", "tg.cmd.report"), ("help", "tg.cmd.staff_help"))


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
        self.options = options or TelegramOptions()
        self.base_url = (base_url or settings.telegram_api_url).rstrip("/")
        self.staff_chat_id: int = settings.telegram_staff_chat_id
        self.staff_lang = getattr(settings, "telegram_staff_language", "az") or "az"
        self.webhook = bool(settings.telegram_webhook_url) if webhook is None else webhook
        self._own_bot = bot is None
        self.bot = bot or Bot(
            settings.telegram_bot_token,
            session=AiohttpSession(
                api=TelegramAPIServer.from_base(self.base_url), timeout=self.options.request_timeout
            ),
        )
        self.gate = StaffGate(self, self.options.member_cache_seconds)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(make_staff_router(self))
        self.dispatcher.include_router(make_user_router(self))
        self.pipeline = UpdatePipeline(self)
        self.sender = Sender(self)
        self._forum: bool | None = None
        self._forum_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self.bot_username: str | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
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
        self.sender.start()
        await self.pipeline.replay()
        self._tasks.append(asyncio.create_task(run_reminders(self), name="telegram-reminders"))
        if self.webhook:
            from bot.channels.telegram.webhook import start_webhook

            settings = self.app.settings
            host, port = settings.telegram_webhook_listen
            self._runner = await start_webhook(
                self, settings.telegram_webhook_url or "", settings.telegram_webhook_secret, host, port
            )
        else:
            await self._until_ok(lambda: self.bot.delete_webhook(drop_pending_updates=False), "deleteWebhook")
            self._tasks.append(asyncio.create_task(run_polling(self), name="telegram-polling"))
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
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
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
            except TelegramAPIError as exc:
                failures += 1
                log.warning("%s failed (%s); retrying", what, type(exc).__name__)
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
            staff = [
                BotCommand(command=c, description=content.t(key, self.staff_lang))
                for c, key in STAFF_COMMANDS
            ]
            await self.bot.set_my_commands(staff, scope=BotCommandScopeChat(chat_id=self.staff_chat_id))
        except TelegramAPIError as exc:
            log.warning("could not set the command menus (%s)", type(exc).__name__)

    # ---- used by the routers -------------------------------------------------------------------
    async def handle(self, inbound: Inbound, ticket: Ticket) -> Outcome:
        outcome = await self.app.engine.handle(inbound)
        ticket.engine_done = True
        self.wake_sender()
        return outcome

    def wake_sender(self) -> None:
        self.sender.wake()

    async def notify_staff(
        self, text: str, about: Message | None = None, html: bool = False, pre: bool = False
    ) -> None:
        """A short message to the staff chat (through the outbox), next to ``about``. ``pre``: a
        table, shown monospaced."""
        payload: dict[str, Any] = {"text": text, "html": html, "pre": pre}
        if about is not None:
            payload["reply_to"] = about.message_id
            if about.is_topic_message and about.message_thread_id:
                payload["thread_id"] = about.message_thread_id
        await self.app.outbox.enqueue_staff(CHANNEL, "notice", None, payload)
        self.wake_sender()

    async def tell_person_error(self, update: Update) -> None:
        """Handling a person's message failed: say so kindly (their message is kept)."""
        message = update.message
        query = update.callback_query
        chat = (
            message.chat if message is not None else (query.message.chat if query and query.message else None)
        )
        user = message.from_user if message is not None else (query.from_user if query else None)
        if chat is None or chat.type != "private":
            return
        lang = (user.language_code or "az").split("-")[0] if user else "az"
        text = self.app.content.t("error.internal", lang if lang in ("az", "ru", "en") else "az")
        await self.app.outbox.enqueue_person(CHANNEL, str(chat.id), {"text": text, "buttons": []})
        self.wake_sender()


async def run_telegram(app: App) -> int:
    """``python -m bot run`` with TELEGRAM_BOT_TOKEN set: run until SIGINT or SIGTERM."""
    channel = TelegramChannel(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await channel.start()
    except TelegramUnauthorizedError:
        log.critical("Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN")
        await channel.bot.session.close()
        return 2
    except Exception as exc:
        log.critical("the Telegram channel could not start: %s", describe(exc))
        await channel.stop()
        return 1
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await channel.stop()
    return 0
