"""``python -m bot run``: one process with every configured channel, the HTTP server and the jobs.

``Service`` starts, in order: the channels' routes on the HTTP server, the HTTP server itself
(``HTTP_LISTEN``), the channels, and the core jobs (reminders, housekeeping), then waits for SIGINT
or SIGTERM and stops them in reverse. With no channel configured, ``python -m bot run`` opens the
terminal chat instead (and still serves ``/healthz`` and ``/metrics`` when ``HTTP_LISTEN`` is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Protocol

from bot.app import App
from bot.http import HttpServer
from bot.jobs import CoreJobs, start_supervised

log = logging.getLogger(__name__)


class Channel(Protocol):
    def attach(self, http: HttpServer) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def wake(self) -> None: ...


def configured_channels(app: App) -> list[Channel]:
    channels: list[Channel] = []
    if app.settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(app))
    if app.settings.webchat_enabled:
        from bot.channels.webchat import WebchatChannel

        channels.append(WebchatChannel(app))
    if app.settings.rasa_enabled:  # counsellors' replies reach Rasa through its HTTP API
        from bot.channels.rasa.sender import RasaChannel

        channels.append(RasaChannel(app))
    if app.settings.messenger_enabled:  # Messenger and Instagram: one webhook, one sender
        from bot.channels.messenger import MessengerChannel

        messenger = MessengerChannel(app)
        messenger.peers = channels  # it wakes the staff chat's sender when it queues a notice
        channels.append(messenger)
    return channels


class Service:
    def __init__(
        self, app: App, channels: list[Channel], *, http: bool = True, reminder_interval: float = 10.0
    ) -> None:
        self.app = app
        self.channels = channels
        self.http = HttpServer(app) if http else None
        self.jobs = CoreJobs(app, reminder_interval=reminder_interval)
        self.jobs.wake = self._wake
        self._jobs_task: asyncio.Task[Any] | None = None
        self._started: list[Channel] = []

    def _wake(self) -> None:
        for channel in self.channels:
            channel.wake()

    async def start(self) -> None:
        if self.http is not None:
            for channel in self.channels:
                channel.attach(self.http)
            host, port = self.app.settings.http_listen
            await self.http.start(host, port)
        for channel in self.channels:
            await channel.start()
            self._started.append(channel)
        self._jobs_task = start_supervised(
            "core-jobs",
            self.jobs.forever,
            self.app.health,
            stale_after=max(120.0, self.jobs.reminder_interval * 6),
        )

    async def stop(self) -> None:
        if self._jobs_task is not None:
            self._jobs_task.cancel()
            with contextlib.suppress(BaseException):
                await self._jobs_task
            self.app.health.unregister("core-jobs")
        await self.jobs.stop()
        for channel in reversed(self._started):
            try:
                await channel.stop()
            except Exception as exc:
                log.error("stopping a channel failed: %s", type(exc).__name__)
        self._started.clear()
        if self.http is not None:
            await self.http.stop()


async def serve(app: App, channels: list[Channel]) -> int:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    service = Service(app, channels)
    try:
        await service.start()
    except Exception as exc:
        from aiogram.exceptions import TelegramUnauthorizedError

        if isinstance(exc, TelegramUnauthorizedError):
            log.critical("Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN")
            await service.stop()
            return 2
        if isinstance(exc, OSError):
            log.critical("the HTTP server could not listen on %s:%s (HTTP_LISTEN)", *app.settings.http_listen)
            await service.stop()
            return 2
        raise
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await service.stop()
    return 0
