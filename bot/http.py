"""The one HTTP server of the bot (``HTTP_LISTEN``): every channel's webhook, the web chat, and
``GET /healthz`` and ``GET /metrics`` for operators and load balancers."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot import metrics

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # a webhook body larger than this is refused (413)


class HttpServer:
    def __init__(self, app: App) -> None:
        self.app = app
        self.web = web.Application(client_max_size=MAX_BODY)
        self.web.router.add_get("/healthz", self.healthz)
        self.web.router.add_get("/metrics", self.metrics)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def healthz(self, _: web.Request) -> web.Response:
        problems = await self.app.health.check(self.app.db)
        if problems:
            return web.Response(status=503, text="unhealthy\n" + "\n".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def metrics(self, _: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(5):
                await metrics.refresh(self.app.db)
        except Exception as exc:  # the counters are still worth serving
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
        return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.web, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the real port when 0 was asked for
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("HTTP server listening on %s:%s", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
