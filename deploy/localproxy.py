"""A small HTTP reverse proxy for running several bot replicas on one machine (tests, a trial run):
requests go round-robin to the replicas; a replica that does not answer is skipped, so a webhook
delivery reaches a live one. In production a real proxy does this (Caddy in docker-compose.yml).

    python deploy/localproxy.py --listen 127.0.0.1:8443 127.0.0.1:8081 127.0.0.1:8082
"""

from __future__ import annotations

import argparse
import asyncio
import itertools

import aiohttp
from aiohttp import web

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
}


class LocalProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.forward)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port: int | None = None
        self.forwarded: dict[str, int] = {u: 0 for u in upstreams}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[next(self._next)]
            try:
                async with self._client.request(
                    request.method, f"http://{upstream}{request.path_qs}", data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    self.forwarded[upstream] += 1
                    out = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=response.status, body=payload, headers=out)
            except (TimeoutError, aiohttp.ClientConnectionError):
                continue  # that replica is down: the next one
        return web.Response(status=502, text="no replica answered\n")


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:8443")
    parser.add_argument("upstreams", nargs="+", help="HOST:PORT of each replica's HTTP_LISTEN")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    proxy = LocalProxy(args.upstreams)
    await proxy.start(host, int(port))
    print(f"proxy on {host}:{proxy.port} -> {', '.join(args.upstreams)}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main())
