"""Incoming messages handled in order per conversation, conversations side by side.

The channels' intakes (Telegram's updates, Messenger's and Instagram's events) put each new message
here under its key (a chat, a person): one key's messages are handled one after another, in the order
they came; different keys at the same time, at most ``concurrency`` at once. ``inflight`` holds the
ids being handled here, so that a redelivery or a replay of the same message is not queued twice.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class OrderedWork(Generic[Item]):
    def __init__(
        self,
        handle: Callable[[Item], Awaitable[None]],
        ident: Callable[[Item], Hashable],
        concurrency: int,
        name: str,
    ) -> None:
        self._handle = handle
        self._ident = ident
        self._name = name
        self._queues: dict[Hashable, deque[Item]] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._idle = asyncio.Event()
        self._idle.set()
        self.inflight: set[Hashable] = set()

    def add(self, key: Hashable, item: Item) -> None:
        self.inflight.add(self._ident(item))
        self._idle.clear()
        self._queues.setdefault(key, deque()).append(item)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._drain(key), name=self._name)

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until everything queued is handled. False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._queues.clear()
        self.inflight.clear()
        self._idle.set()

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                item = queue[0]
                async with self._slots:
                    await self._handle(item)
                queue.popleft()
                self.inflight.discard(self._ident(item))
        finally:
            self._tasks.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            if not self._tasks:
                self._idle.set()
