"""``/webhooks/messenger`` on the bot's one HTTP server (``HTTP_LISTEN``), for Messenger and Instagram.

- ``GET``: Meta's subscription handshake. ``hub.mode=subscribe`` with the right ``hub.verify_token``
  gets ``hub.challenge`` back; anything else 403.
- ``POST``: the ``X-Hub-Signature-256`` header (``sha256=`` and the HMAC-SHA256 of the raw body with
  the app secret) is checked in constant time before the body is parsed; a missing or wrong signature
  gets 403 and nothing is stored. A signed body that is not JSON gets 400. The events are written to
  the inbox, and only then is 200 returned (500 if the inbox cannot be written: Meta sends the request
  again); they are handled after that, in the background.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.messenger.events import events_of
from bot.jobs import describe

if TYPE_CHECKING:
    from bot.channels.messenger import MessengerChannel

log = logging.getLogger(__name__)

PATH = "/webhooks/messenger"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(secret: str, body: bytes) -> str:
    """The value Meta puts in ``X-Hub-Signature-256`` for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, given: str | None) -> bool:
    expected = signature(secret, body).encode()
    return hmac.compare_digest(expected, (given or "").strip().encode("utf-8", "replace"))


def make_routes(channel: MessengerChannel, app: web.Application) -> None:
    settings = channel.app.settings
    secret = settings.messenger_app_secret or ""
    verify_token = settings.messenger_verify_token or ""

    async def handshake(request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") == "subscribe"
            and verify_token
            and hmac.compare_digest(token.encode("utf-8", "replace"), verify_token.encode())
            and challenge
        ):
            log.info("messenger webhook subscription confirmed")
            return web.Response(text=challenge)
        log.warning("messenger webhook: a subscription handshake with a wrong token was refused")
        return web.Response(status=403, text="forbidden")

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if not secret or not signed(secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("messenger webhook: a request without a valid signature was refused")
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("messenger webhook: a signed request that is not JSON was refused")
            return web.Response(status=400, text="bad request")
        events = events_of(data)
        if events:
            try:
                await channel.intake.accept(events)
            except Exception as exc:
                log.error("messenger webhook: could not record events (%s); Meta will send them again",
                          describe(exc))  # fmt: skip
                channel.intake.tell_soon(events)  # without the database: where help is
                return web.Response(status=500, text="try again")
        return web.Response(text="EVENT_RECEIVED")

    app.router.add_get(PATH, handshake)
    app.router.add_post(PATH, receive)
