"""The web chat channel: the widget's files and the WebSocket on the bot's HTTP server.

``GET /chat/`` the standalone chat page, ``GET /chat/widget.js`` (and ``widget.css``) the embeddable
widget, ``GET /chat/ws`` the WebSocket (protocol in ``protocol.py``), ``GET /chat/ready`` 200 on the
process that serves the chat's sockets (for the proxy's health check), 503 elsewhere.

A browser's message is written to the inbox (keyed by a hash of its session and the browser's
message id, so a message sent again after a reconnect is handled once), acknowledged to the
browser, then handled by the engine. If handling fails (the database is away) it stays in the inbox
and the replay loop handles it later; the person is told where help is meanwhile. What the bot and
the counsellors send waits in the outbox and is delivered by ``delivery.Sender``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot.app import App
from bot.channels.webchat.delivery import CHANNEL, CLOSE_TRY_AGAIN, Connection, Hub, Sender
from bot.channels.webchat.limits import ClientAddress, Connections, Rate
from bot.channels.webchat.pages import Pages
from bot.channels.webchat.protocol import BadFrame, Hello, Say, parse
from bot.channels.webchat.sessions import Sessions
from bot.domain import Inbound
from bot.jobs import Loops, describe

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_ERROR = 1011


@dataclass(frozen=True)
class WebchatOptions:
    outbox_poll: float = 1.0  # seconds between looks at the outbox when nothing woke the sender
    outbox_batch: int = 200
    park_seconds: float = 300.0  # an item for an absent person is looked at again after this
    send_timeout: float = 10.0  # a socket that takes longer to take one message is closed
    hello_timeout: float = 10.0
    heartbeat: float = 25.0  # WebSocket pings; a browser that does not answer is disconnected
    replay_interval: float = 5.0
    leader_poll: float = 5.0
    retry_unavailable: int = 10  # seconds the browser waits before sending again when refused
    retry_connections: int = 30
    backoff_base: float = 1.0
    backoff_cap: float = 30.0


class WebchatChannel:
    def __init__(self, app: App, options: WebchatOptions | None = None) -> None:
        settings = app.settings
        if not settings.webchat_enabled:
            raise ValueError("WEBCHAT_ALLOWED_ORIGINS is required")
        self.app = app
        self.options = options or WebchatOptions()
        self.allowed = set(settings.webchat_allowed_origins)
        self.max_chars = settings.webchat_max_chars
        self.max_frame = max(64 * 1024, self.max_chars * 12 + 1024)
        self.sessions = Sessions(
            app.db, settings.pseudonym_secret, app.pseudo.pseudonym, settings.webchat_session_hours
        )
        self.hub = Hub()
        self.sender = Sender(self)
        self.rate = Rate(settings.webchat_messages_per_minute, 60.0)
        self.connections = Connections(settings.webchat_connections_per_address)
        self.client_address = ClientAddress(settings.webchat_trusted_proxies)
        self.pages = Pages(app.content, settings)
        self._inflight: set[str] = set()
        self._loops = Loops(self.app.health, base=self.options.backoff_base, cap=self.options.backoff_cap)

    # ---- lifecycle -----------------------------------------------------------------------------
    def attach(self, http: HttpServer) -> None:
        router = http.web.router
        router.add_get("/chat", self.pages.redirect)
        router.add_get("/chat/", self.pages.page)
        router.add_get("/chat/widget.js", self.pages.script)
        router.add_get("/chat/widget.css", self.pages.style)
        router.add_get("/chat/ready", self.ready)
        router.add_get("/chat/ws", self.socket)

    async def start(self) -> None:
        try:  # serve sockets from the first moment if no other process does
            await self.sender.lead()
        except Exception as exc:  # the sender's loop tries again
            log.warning("the web chat could not look at its leadership yet (%s)", describe(exc))
        self._loops.spawn("webchat-sender", self.sender.run, max(120.0, self.options.leader_poll * 6))
        self._loops.spawn("webchat-replay", self.replay_loop, max(120.0, self.options.replay_interval * 6))
        log.info("web chat started (%d allowed origin(s))", len(self.allowed))

    async def stop(self) -> None:
        await self._loops.stop()
        await self.sender.stop()

    def wake(self) -> None:
        self.sender.wake()

    # ---- HTTP ----------------------------------------------------------------------------------
    async def ready(self, _: web.Request) -> web.Response:
        if self.sender.leading:
            return web.Response(text="serving the web chat\n")
        return web.Response(status=503, text="another process serves the web chat\n")

    def origin_allowed(self, origin: str | None, request: web.Request) -> bool:
        """A listed site, or the bot's own address (the standalone page)."""
        if not origin:
            return False
        origin = origin.strip().lower().rstrip("/")
        if origin in self.allowed:
            return True
        parts = urlsplit(origin)
        return (
            parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == request.host.lower()
        )

    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request.headers.get("Origin"), request):
            return web.Response(status=403, text="this site may not open the chat\n")
        ws = web.WebSocketResponse(heartbeat=self.options.heartbeat, max_msg_size=self.max_frame)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="a WebSocket upgrade is expected here\n")
        await ws.prepare(request)
        if not self.sender.leading:
            await ws.close(code=CLOSE_TRY_AGAIN, message=b"another process serves the chat")
            return ws
        address = self.client_address(request)
        counted = self.connections.open(address)
        conn: Connection | None = None
        try:
            hello = await self._hello(ws)
            if hello is None:
                return ws
            if not counted:
                log.info("web chat: too many sockets from one address")
                await self._send_refusal(
                    ws, hello.lang, None, "too_many_connections", self.options.retry_connections
                )
                await ws.close(code=CLOSE_POLICY, message=b"too many connections")
                return ws
            conn = await self._begin(ws, hello, address)
            if conn is not None:
                await self._read(conn)
        finally:
            if counted:
                self.connections.close(address)
            if conn is not None:
                conn.present = False
                self.hub.remove(conn)
        return ws

    async def _hello(self, ws: web.WebSocketResponse) -> Hello | None:
        try:
            msg = await ws.receive(timeout=self.options.hello_timeout)
        except TimeoutError:
            await ws.close(code=CLOSE_POLICY, message=b"hello expected")
            return None
        if msg.type != WSMsgType.TEXT:
            if not ws.closed:
                await ws.close(code=CLOSE_POLICY, message=b"hello expected")
            return None
        try:
            hello = parse(msg.data)
        except BadFrame:
            hello = None
        if not isinstance(hello, Hello):
            await ws.close(code=CLOSE_POLICY, message=b"hello expected")
            return None
        return hello

    async def _begin(self, ws: web.WebSocketResponse, hello: Hello, address: str) -> Connection | None:
        """The session (resumed or new), then what waited for it."""
        try:
            resumed = hello.session is not None and await self.sessions.valid(hello.session)
            token = hello.session if resumed and hello.session else self.sessions.issue()
            conn = Connection(ws, token, hello.lang, address)
            self.hub.add(conn)
            await conn.send(
                {"type": "session", "session": token, "new": not resumed}, self.options.send_timeout
            )
            if not resumed:  # the welcome, through the inbox like any message
                await self._accept(conn, Say(text="/start", message_id="hello"), ack=False)
            await self.sender.resume(conn)
            return conn
        except Exception as exc:
            log.error("a web chat session could not start: %s", describe(exc))
            await self._send_refusal(ws, hello.lang, None, "unavailable", self.options.retry_unavailable)
            await ws.close(code=CLOSE_ERROR, message=b"try again")
            return None

    async def _read(self, conn: Connection) -> None:
        async for msg in conn.ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    say = parse(msg.data)
                except BadFrame as exc:
                    await self._refuse(conn, exc.message_id, "invalid")
                    continue
                if isinstance(say, Hello):
                    await self._refuse(conn, None, "invalid")
                    continue
                await self._take(conn, say)
            elif msg.type == WSMsgType.BINARY:
                await self._refuse(conn, None, "invalid")
            elif msg.type == WSMsgType.ERROR:
                log.info("web chat socket error: %s", type(conn.ws.exception()).__name__)
                break

    # ---- a person's message --------------------------------------------------------------------
    async def _take(self, conn: Connection, say: Say) -> None:
        if say.text is not None and len(say.text) > self.max_chars:
            await self._refuse(conn, say.message_id, "too_long")
            return
        wait = self.rate.take(conn.token)
        if wait:
            await self._refuse(conn, say.message_id, "too_fast", Rate.whole_seconds(wait))
            return
        await self._accept(conn, say)

    async def _accept(self, conn: Connection, say: Say, ack: bool = True) -> None:
        """Inbox first, then the acknowledgement, then the engine."""
        external_id = self.sessions.external_id(conn.token, say.message_id or secrets.token_hex(12))
        if external_id in self._inflight:  # the same message, still being handled
            if ack and say.message_id:
                await conn.send({"type": "ack", "id": say.message_id}, self.options.send_timeout)
            return
        payload = {"session": conn.token, "lang": conn.lang, "text": say.text, "button": say.button}
        self._inflight.add(external_id)
        try:
            try:
                fresh = await self.app.inbox.record(CHANNEL, [(external_id, payload)])
            except Exception as exc:
                log.error("a web chat message could not be stored: %s", describe(exc))
                await self._refuse(conn, say.message_id, "unavailable", self.options.retry_unavailable)
                return
            if ack and say.message_id:
                await conn.send({"type": "ack", "id": say.message_id}, self.options.send_timeout)
            if external_id in fresh:
                await self._handle(external_id, payload, conn)
        finally:
            self._inflight.discard(external_id)

    async def _handle(self, external_id: str, payload: dict[str, Any], conn: Connection | None) -> None:
        try:
            await self.app.engine.handle(inbound(external_id, payload))
        except Exception as exc:
            log.error("a web chat message could not be handled (kept for replay): %s", describe(exc))
            if conn is not None:
                text = self.app.content.t("error.internal", conn.lang)
                frame = {"type": "message", "text": text, "buttons": [], "kind": "bot"}
                await conn.send(frame, self.options.send_timeout)
            return
        self.sender.wake()

    async def replay_loop(self) -> None:
        """Messages stored but not handled (a crash, a database outage), for as long as it takes."""
        while True:
            if self.sender.leading:
                await self.replay()
            self.app.health.beat("webchat-replay")
            await asyncio.sleep(self.options.replay_interval)

    async def replay(self) -> int:
        rows = await self.app.inbox.take_pending(CHANNEL, limit=100, exclude=set(self._inflight))
        count = 0
        for external_id, payload in rows:
            if external_id in self._inflight:
                continue
            if not isinstance(payload, dict) or not isinstance(payload.get("session"), str):
                await self.app.inbox.finish_alone(CHANNEL, external_id, error="unreadable message")
                continue
            self._inflight.add(external_id)
            try:
                await self._handle(external_id, payload, None)
            finally:
                self._inflight.discard(external_id)
            count += 1
        if count:
            log.info("web chat: replayed %d message(s) stored but not handled", count)
        return count

    # ---- refusals ------------------------------------------------------------------------------
    def refusal(
        self, lang: str, message_id: str | None, reason: str, retry_after: int | None
    ) -> dict[str, Any]:
        values = {"limit": self.max_chars, "seconds": retry_after or 0}
        frame: dict[str, Any] = {
            "type": "refused",
            "id": message_id,
            "reason": reason,
            "text": self.app.content.t(f"webchat.ui.{reason}", lang, **values),
        }
        if retry_after:
            frame["retry_after"] = retry_after
        return frame

    async def _refuse(
        self, conn: Connection, message_id: str | None, reason: str, retry_after: int | None = None
    ) -> None:
        await conn.send(self.refusal(conn.lang, message_id, reason, retry_after), self.options.send_timeout)

    async def _send_refusal(
        self, ws: web.WebSocketResponse, lang: str, message_id: str | None, reason: str, retry_after: int
    ) -> None:
        with contextlib.suppress(Exception):
            await ws.send_json(self.refusal(lang, message_id, reason, retry_after))


def inbound(external_id: str, payload: dict[str, Any]) -> Inbound:
    token = str(payload["session"])
    text, button, lang = payload.get("text"), payload.get("button"), payload.get("lang")
    return Inbound(
        channel=CHANNEL,
        user_id=token,
        address=token,
        text=text if isinstance(text, str) else None,
        button=button if isinstance(button, str) else None,
        language_hint=lang if isinstance(lang, str) else None,
        external_id=external_id,
    )
