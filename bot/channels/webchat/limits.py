"""The web chat's limits: messages per minute per session, open sockets per address, and the
address of a browser behind the operator's reverse proxy."""

from __future__ import annotations

import math
import time
from collections import deque
from ipaddress import ip_address, ip_network

from aiohttp import web


class Rate:
    """At most ``count`` events per key within any ``seconds`` (a sliding window)."""

    def __init__(self, count: int, seconds: float = 60.0) -> None:
        self.count = count
        self.seconds = seconds
        self._times: dict[str, deque[float]] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Count one event; 0 if allowed, else the seconds until one more would be (not counted)."""
        now = time.monotonic() if now is None else now
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) >= self.count:
            return max(0.001, times[0] + self.seconds - now)
        times.append(now)
        if len(self._times) > 10_000:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        self._times = {k: t for k, t in self._times.items() if t and t[-1] > now - self.seconds}

    @staticmethod
    def whole_seconds(wait: float) -> int:
        return max(1, math.ceil(wait))


class Connections:
    """Open sockets per address."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, address: str) -> bool:
        """Count a new socket; False (not counted) when the address has ``limit`` open already."""
        count = self._open.get(address, 0)
        if count >= self.limit:
            return False
        self._open[address] = count + 1
        return True

    def close(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)


class ClientAddress:
    """The browser's address: the peer's, or, when the peer is a trusted proxy, the nearest address
    in ``X-Forwarded-For`` that is not a trusted proxy."""

    def __init__(self, trusted: tuple[str, ...]) -> None:
        self.trusted = [ip_network(n, strict=False) for n in trusted]

    def _is_trusted(self, raw: str) -> bool:
        try:
            address = ip_address(raw.strip().strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, request: web.Request) -> str:
        peer = request.remote or "unknown"
        if not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
        hops = [h for h in hops if h]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop[:64]
        return peer
