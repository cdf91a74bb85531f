"""The web chat's outbox worker: everything for a browser waits in the durable outbox until it has
reached that browser's open socket.

- One process serves the web chat's sockets and sends for it (``Leadership("sender:webchat")``);
  the others refuse sockets (the browser reconnects, and the proxy's health check on
  ``/chat/ready`` sends it to the right process). A process that becomes the sender first makes
  every waiting item due again and takes back every lease.
- An item for a person whose browser is connected is written to the socket and acknowledged once
  the write succeeded; a person's items go out in order, and each batch is acknowledged before the
  next is taken (after a crash the browser may see the last batch again with the same ids, and
  shows each id once).
- An item for a person who is not connected is *parked*: given back to the outbox, due again only
  after a long while (no attempt counted), and its id noted. When the browser comes back with its
  token, its parked items are made due at once, before it counts as present, so they arrive first
  and in order (the outbox never hands out a person's newer item while an older one is parked).
  Parking and resuming hold the same per-session lock.
- An item whose session has expired is dead; if its case is still open the counsellors are told
  the person can no longer be reached here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import update

from bot import metrics
from bot.channels.webchat.protocol import message
from bot.deliveries import StaffNotice, ToPerson
from bot.jobs import Leadership
from bot.storage.models import OutboxItem
from bot.storage.outbox import PENDING, Delivery

if TYPE_CHECKING:
    from bot.channels.webchat.channel import WebchatChannel

log = logging.getLogger(__name__)

CHANNEL = "webchat"
CLOSE_TRY_AGAIN = 1013  # this process does not serve the chat now: reconnect
CLOSE_RESTART = 1012
CLOSE_WAIT = 5.0  # seconds a closing socket waits for the browser's answer


class Connection:
    """One open socket of one browser tab."""

    def __init__(self, ws: web.WebSocketResponse, token: str, lang: str, address: str) -> None:
        self.ws = ws
        self.token = token
        self.lang = lang
        self.address = address
        self.present = False  # its parked messages are due again: it gets messages now
        self._lock = asyncio.Lock()

    async def send(self, obj: dict[str, Any], timeout: float) -> bool:  # noqa: ASYNC109
        """Write one frame; False if the socket is gone or too slow (it is closed then)."""
        if self.ws.closed:
            return False
        try:
            async with self._lock, asyncio.timeout(timeout):
                await self.ws.send_str(json.dumps(obj, ensure_ascii=False))
            return True
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            log.info("a web chat socket could not be written to (%s)", type(exc).__name__)
            self.present = False
            asyncio.get_running_loop().create_task(self.close())
            return False

    async def close(self, code: int = 1000, reason: bytes = b"") -> None:
        """Close, waiting a few seconds at most for a browser that does not answer."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code, message=reason), CLOSE_WAIT)


class Hub:
    """The open sockets of this process, by session token, and the parked items' ids."""

    def __init__(self) -> None:
        self._conns: dict[str, list[Connection]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.parked: dict[str, dict[int, None]] = {}

    def add(self, conn: Connection) -> None:
        self._conns.setdefault(conn.token, []).append(conn)

    def remove(self, conn: Connection) -> None:
        conns = self._conns.get(conn.token, [])
        if conn in conns:
            conns.remove(conn)
        if not conns:
            self._conns.pop(conn.token, None)
        self.tidy(conn.token)

    def present(self, token: str) -> list[Connection]:
        return [c for c in self._conns.get(token, ()) if c.present and not c.ws.closed]

    def connections(self) -> list[Connection]:
        return [c for conns in self._conns.values() for c in conns]

    def lock(self, token: str) -> asyncio.Lock:
        lock = self._locks.get(token)
        if lock is None:
            lock = self._locks[token] = asyncio.Lock()
        return lock

    def tidy(self, token: str) -> None:
        lock = self._locks.get(token)
        if lock is not None and not lock.locked() and token not in self._conns:
            del self._locks[token]


class Sender:
    def __init__(self, channel: WebchatChannel) -> None:
        self.channel = channel
        self.app = channel.app
        self.options = channel.options
        self.hub = channel.hub
        self.leader = Leadership(self.app.db, f"sender:{CHANNEL}")
        self.leading = False
        self._wake = asyncio.Event()
        self.stats = {"sent": 0, "parked": 0, "dead": 0}
        content = self.app.content
        variants = [(lang, who) for lang in content.strings for who in ("child", "adult")]
        self._status: dict[str, str] = {}
        for key, status in (("relay.joined", "counsellor_joined"), ("close.message", "counsellor_left")):
            for lang, who in variants:
                self._status[content.t(key, lang, who)] = status

    def wake(self) -> None:
        self._wake.set()

    # ---- leadership ----------------------------------------------------------------------------
    async def lead(self) -> bool:
        """Is this process the web chat's sender? On taking over: everything waiting becomes due."""
        if not await self.leader.acquire():
            if self.leading:
                log.warning("another process serves the web chat now: closing this one's sockets")
                self.leading = False
                await self._close_all(CLOSE_RESTART)
            return False
        if not self.leading:
            await self._unpark_all()
            reclaimed = await self.app.outbox.reclaim(CHANNEL)
            if reclaimed:
                log.info("took back %d web chat item(s) from a stopped sender", reclaimed)
            self.leading = True
            log.info("this process serves the web chat")
        return True

    async def _unpark_all(self) -> None:
        now = self.app.outbox.clock()
        async with self.app.db.write() as session:
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.channel == CHANNEL,
                    OutboxItem.status == PENDING,
                    OutboxItem.target == "person",
                    OutboxItem.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
        self.hub.parked.clear()

    async def _close_all(self, code: int) -> None:
        await asyncio.gather(*(c.close(code) for c in self.hub.connections()), return_exceptions=True)

    # ---- the loop (under bot.jobs.supervise) ---------------------------------------------------
    async def run(self) -> None:
        while True:
            self._wake.clear()
            if not await self.lead():
                self.app.health.beat("webchat-sender")
                await asyncio.sleep(self.options.leader_poll)
                continue
            items = await self.app.outbox.due(CHANNEL, limit=self.options.outbox_batch, target="person")
            if items:
                await self.deliver(items)
            self.app.health.beat("webchat-sender")
            if len(items) >= self.options.outbox_batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.outbox_poll)

    async def stop(self) -> None:
        await self._close_all(CLOSE_RESTART)
        await self.leader.release()
        self.leading = False

    # ---- delivering ----------------------------------------------------------------------------
    async def deliver(self, items: list[Delivery]) -> None:
        """Deliver a batch: each person's items in order, people side by side; then acknowledge."""
        groups: dict[str, list[Delivery]] = {}
        for item in items:
            if not item.address:
                await self.app.outbox.dead(item.id, "no address")
                self.stats["dead"] += 1
                continue
            groups.setdefault(item.address, []).append(item)
        results = await asyncio.gather(*(self._deliver_to(token, group) for token, group in groups.items()))
        done = [entry for result in results for entry in result]
        if done:
            await self.app.outbox.sent_many(done)
            self.stats["sent"] += len(done)
            metrics.MESSAGES.labels(direction="out", channel=CHANNEL).inc(len(done))

    async def _deliver_to(self, token: str, group: list[Delivery]) -> list[tuple[int, dict[str, Any] | None]]:
        done: list[tuple[int, dict[str, Any] | None]] = []
        async with self.hub.lock(token):
            for index, item in enumerate(group):
                reached = False
                try:
                    frame = self.render(item)
                except TypeError:
                    await self.app.outbox.dead(item.id, f"not for a person: {item.kind}")
                    self.stats["dead"] += 1
                    continue
                for conn in self.hub.present(token):
                    reached = await conn.send(frame, self.options.send_timeout) or reached
                if not reached:
                    await self._park(token, group[index:])
                    break
                done.append((item.id, None))
        self.hub.tidy(token)
        return done

    def render(self, item: Delivery) -> dict[str, Any]:
        payload = item.payload
        status = self._status.get(payload.text) if isinstance(payload, ToPerson) else None
        return message(item, status)

    async def _park(self, token: str, items: list[Delivery]) -> None:
        """The person is not here: their items wait (or die if the session is over)."""
        ids = [item.id for item in items]
        if not await self.channel.sessions.valid(token):
            cases: set[int] = set()
            for item in items:
                await self.app.outbox.dead(item.id, "web chat session expired")
                if item.case_id is not None:
                    cases.add(item.case_id)
            self.stats["dead"] += len(items)
            self.hub.parked.pop(token, None)
            for case_id in sorted(cases):
                await self._tell_staff(case_id)
            return
        self.hub.parked.setdefault(token, {}).update(dict.fromkeys(ids))
        await self.app.outbox.defer(ids, self.options.park_seconds)
        self.stats["parked"] += len(ids)

    async def _tell_staff(self, case_id: int) -> None:
        view = await self.app.desk.case(case_id, messages=0)
        if view is None or not view.open:
            return
        settings = self.app.settings
        text = self.app.content.t("webchat.staff.unreachable", settings.telegram_staff_language, case=case_id)
        await self.app.outbox.enqueue_staff(settings.staff_channel, StaffNotice(text=text), case_id=case_id)

    async def resume(self, conn: Connection) -> None:
        """The browser is back: its parked items are due now, then it counts as present."""
        async with self.hub.lock(conn.token):
            parked = self.hub.parked.pop(conn.token, {})
            if parked:
                try:
                    await self.app.outbox.defer(list(parked), 0)
                except Exception:
                    self.hub.parked.setdefault(conn.token, {}).update(parked)
                    raise
            conn.present = True
        self.wake()
