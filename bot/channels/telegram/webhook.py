"""Webhook mode (TELEGRAM_WEBHOOK_URL): an aiohttp server with aiogram's SimpleRequestHandler.

A request without the right X-Telegram-Bot-Api-Secret-Token header gets 401. An update is answered
200 only once it is in the journal (500 if the journal cannot be written, so Telegram sends it
again); it is handled after that, in the background.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.channels.telegram.polling import ALLOWED_UPDATES
from bot.channels.telegram.sender import describe

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)


class JournalingRequestHandler(SimpleRequestHandler):
    def __init__(self, channel: TelegramChannel, secret_token: str | None) -> None:
        super().__init__(
            channel.dispatcher, channel.bot, handle_in_background=True, secret_token=secret_token
        )
        self.channel = channel

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            raw: Any = await request.json(loads=bot.session.json_loads)
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValueError, ValidationError):
            log.warning("webhook: a request that is not an update was ignored")
            return web.json_response({}, status=400)
        try:
            await self.channel.pipeline.accept(update)
        except Exception as exc:
            log.error("webhook: could not journal an update (%s); Telegram will send it again", describe(exc))
            return web.json_response({}, status=500)
        return web.json_response({})

    async def close(self) -> None:
        """The channel owns the bot's session and closes it itself."""


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


async def start_webhook(
    channel: TelegramChannel, url: str, secret: str | None, host: str, port: int, register: bool = True
) -> web.AppRunner:
    """Serve the webhook on ``host:port`` and (with ``register``) tell Telegram about ``url``."""
    app = web.Application()
    JournalingRequestHandler(channel, secret).register(app, path=webhook_path(url))

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    if register:
        await channel.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )
    log.info("webhook listening on %s:%s", host, port)
    return runner
