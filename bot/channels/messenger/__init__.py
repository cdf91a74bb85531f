"""The Messenger and Instagram channel: one adapter for both, through Meta's Messenger Platform.

People write to the helpline's Facebook Page on Messenger, or to its linked Instagram professional
account; Meta posts both to one webhook (``/webhooks/messenger`` on the bot's HTTP server, ``webhook``).
Each event is written to the inbox before the 200 (``pipeline``), read into the engine's ``Inbound``
(``events``: the person is ``Inbound(channel="messenger" | "instagram", user_id=<PSID | IGSID>)``, so
a case shows where it came from) and handled in order per person. What the core writes for these
people is delivered from the outbox by one sender process (``sender``, ``render``) through the Send API
(``graph``). Counsellors keep working in the Telegram staff chat or the console.

Every loop runs under ``bot.jobs.supervise``: it survives any error, and a loop that stops beating
makes ``/healthz`` unhealthy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.app import App
from bot.channels.messenger.events import CHANNELS, INSTAGRAM, MESSENGER
from bot.channels.messenger.graph import GraphClient, GraphError
from bot.channels.messenger.options import MessengerOptions
from bot.channels.messenger.pipeline import Intake
from bot.channels.messenger.sender import Sender
from bot.domain import Inbound, Outcome
from bot.jobs import Loops, describe
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)

__all__ = ["CHANNELS", "INSTAGRAM", "MESSENGER", "MessengerChannel", "MessengerOptions"]


class MessengerChannel:
    """The running channel. ``attach(http)`` before the HTTP server starts, then ``start()`` /
    ``stop()``; tests pass ``base_url`` (a local Graph API server), ``options`` and ``clock``."""

    def __init__(
        self,
        app: App,
        *,
        base_url: str | None = None,
        options: MessengerOptions | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        settings = app.settings
        if not settings.messenger_enabled:
            raise ValueError(
                "MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN are required"
            )
        self.app = app
        self.options = options or MessengerOptions()
        self.clock = clock
        self.graph = GraphClient(
            base_url or settings.messenger_api_url,
            settings.messenger_page_token or "",
            timeout=self.options.request_timeout,
        )
        self.intake = Intake(self)
        self.sender = Sender(self)
        self.peers: Iterable[Any] = ()  # the other channels: woken when a staff notice is queued
        self._loops = Loops(self.app.health, base=self.options.backoff_base, cap=self.options.backoff_cap)
        self._attached = False

    # ---- lifecycle -----------------------------------------------------------------------------
    def attach(self, http: HttpServer) -> None:
        """Add ``/webhooks/messenger`` (GET handshake, POST events) to the bot's HTTP server."""
        from bot.channels.messenger.webhook import make_routes

        if not self._attached:
            make_routes(self, http.web)
            self._attached = True

    async def start(self) -> None:
        if self.options.check_token:  # in the background: a slow Graph API must not hold up the start
            self._loops.add(asyncio.create_task(self._check_token(), name="messenger-token-check"))
        opts = self.options
        self._loops.spawn("messenger-sender", self.sender.run, max(120.0, opts.leader_poll * 6))
        self._loops.spawn("messenger-replay", self.intake.replay_loop, max(120.0, opts.replay_interval * 6))
        log.info("messenger channel started (Messenger and Instagram)")

    async def _check_token(self) -> None:
        """Ask the Graph API whose token this is; a bad token is logged (the webhook keeps recording
        what people write, and the outbox keeps it, until an operator fixes the token)."""
        try:
            await self.graph.me()
        except GraphError as exc:
            if exc.kind == "auth":
                log.critical("Meta rejected MESSENGER_PAGE_TOKEN (%s): messages wait in the outbox", exc)
            else:
                log.warning("could not reach the Graph API to check the page token (%s)", exc)
        except Exception as exc:
            log.warning("could not check the page token: %s", describe(exc))

    async def stop(self) -> None:
        """Stop: finish events in hand (for a short while), give back unsent items."""
        await self._shutdown(tidy=True)

    async def abort(self) -> None:
        """Stop at once without tidying up, as a crash would (for tests of the recovery)."""
        await self._shutdown(tidy=False)

    async def _shutdown(self, tidy: bool) -> None:
        await self._loops.stop()
        if tidy:
            await self.intake.drain(self.options.drain_timeout)
        await self.intake.stop()
        await self.sender.stop(release=tidy)
        await self.graph.close()

    # ---- used by the intake and the sender ---------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Outcome:
        outcome = await self.app.engine.handle(inbound)
        self.sender.wake()
        self.wake_peers()  # the staff side has a card or the person's words to deliver
        return outcome

    def wake(self) -> None:
        self.sender.wake()

    def wake_peers(self) -> None:
        for peer in self.peers:
            if peer is not self:
                peer.wake()
