"""Webhook mode (TELEGRAM_WEBHOOK_URL): a route on the bot's one HTTP server (``HTTP_LISTEN``).

A request without the right ``X-Telegram-Bot-Api-Secret-Token`` header gets 401; a body that is not
an update (not JSON, nested too deeply, not the Update shape) gets 400. An update is answered 200
only once it is in the inbox (500 if the inbox cannot be written, so Telegram sends it again); it
is handled after that, in the background.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.channels.telegram.polling import ALLOWED_UPDATES
from bot.jobs import describe

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


def make_handler(channel: TelegramChannel, secret: str | None):
    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({}, status=401)
        try:
            raw = json.loads(await request.read())
            update = Update.model_validate(raw, context={"bot": channel.bot})
        except (ValueError, RecursionError, ValidationError, TypeError):
            log.warning("webhook: a request that is not an update was refused")
            return web.json_response({}, status=400)
        try:
            await channel.pipeline.accept(update)
        except Exception as exc:
            log.error("webhook: could not record an update (%s); Telegram will send it again", describe(exc))
            await channel.pipeline.tell_person(update)  # without the database: where help is
            return web.json_response({}, status=500)
        return web.json_response({})

    return handle


def add_webhook_route(channel: TelegramChannel, app: web.Application, url: str, secret: str | None) -> None:
    app.router.add_post(webhook_path(url), make_handler(channel, secret))


async def register_webhook(channel: TelegramChannel, url: str, secret: str | None) -> None:
    """Tell Telegram where to send updates."""
    await channel.bot.set_webhook(
        url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
    )
