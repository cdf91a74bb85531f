"""The action server: rasa-sdk's own Sanic app (``/webhook``, ``/health``, ``/actions``) with the
helpline's actions, run inside this process's event loop next to the database and the engine.

- Every ``/webhook`` body is checked before rasa-sdk runs it (:func:`bot.channels.rasa.calls.check`):
  a malformed call is answered 400 in rasa-sdk's error format (``{"error", "action_name"}``), never
  with rasa-sdk's 500 that echoes the request, and nothing is stored.
- The engine's triager is wrapped so that triage reads the tracker's recent user messages as context
  (:mod:`bot.channels.rasa.context`).
- A replay loop handles calls that were recorded while the database was away.
- ``GET /healthz`` answers like the bot's: 503 when the database or the replay loop is in trouble.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import warnings
import zlib
from typing import Any

from bot.app import App
from bot.channels.rasa.actions import ACTIONS
from bot.channels.rasa.calls import BadCall, check
from bot.channels.rasa.turns import RasaTurns
from bot.jobs import start_supervised

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic, response
    from sanic.request import Request

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # a tracker with a long history; larger bodies are refused (413)
REPLAY_INTERVAL = 5.0


def _body(request: Request) -> Any:
    raw = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        raw = zlib.decompressobj().decompress(raw, MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise ValueError("too large")
    return json.loads(raw)


class ActionServer:
    """rasa-sdk's action server on ``host:port`` (port 0: any free port, see ``port``)."""

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 5055, replay_interval: float = 0
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.replay_interval = replay_interval or REPLAY_INTERVAL
        self.turns = RasaTurns(app)
        self.executor = ActionExecutor()
        for action in ACTIONS:
            self.executor.register_action(action(self.turns))
        self.web: Sanic = create_app(self.executor, cors_origins="")
        self.web.config.REQUEST_MAX_SIZE = MAX_BODY
        # Sanic's "touchup" rewrites its own request handling functions in place when an app starts;
        # a second app in one process (a restart, the tests) would rewrite them again and fail.
        self.web.config.TOUCHUP = False
        self.web.on_request(self._check)
        self.web.add_route(self._healthz, "/healthz", methods=["GET"], name="helpline_healthz")
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._replay: asyncio.Task[None] | None = None
        self.port: int | None = None

    async def _check(self, request: Request) -> Any:
        """A malformed call gets rasa-sdk's 400 before rasa-sdk's handler could answer it with 500."""
        if request.path != "/webhook" or request.method != "POST":
            return None
        try:
            body = _body(request)
        except (ValueError, zlib.error, UnicodeDecodeError):
            return response.json({"error": "Invalid body request", "action_name": None}, status=400)
        try:
            check(body)
        except BadCall as exc:
            return response.json({"error": exc.reason, "action_name": exc.action}, status=400)
        request.parsed_json = body  # rasa-sdk reads request.json: parsed once, here
        return None

    async def _healthz(self, _: Request) -> Any:
        """Like the bot's ``/healthz``: the database answers and the replay loop beats (rasa-sdk's own
        ``/health`` only says the server is up)."""
        problems = await self.app.health.check(self.app.db)
        if problems:
            return response.text("unhealthy\n" + "\n".join(problems) + "\n", status=503)
        return response.text("ok\n")

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        sock.set_inheritable(True)
        self._socket = sock
        self.port = sock.getsockname()[1]
        server = await self.web.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        if server is None:  # pragma: no cover - create_server always returns one here
            raise RuntimeError("the action server did not start")
        await server.startup()
        await server.before_start()
        await server.after_start()
        self._server = server
        self._replay = start_supervised(
            "rasa-replay",
            self._replay_forever,
            self.app.health,
            stale_after=max(120.0, self.replay_interval * 6),
        )
        log.info("Rasa action server listening on %s:%s", self.host, self.port)

    async def _replay_forever(self) -> None:
        while True:
            await self.turns.replay()
            self.app.health.beat("rasa-replay")
            await asyncio.sleep(self.replay_interval)

    async def stop(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(BaseException):
                await self._replay
            self._replay = None
            self.app.health.unregister("rasa-replay")
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await server.before_stop()
            closing = server.close()
            if closing is not None:
                await closing
            with contextlib.suppress(Exception):
                await server.after_stop()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        Sanic.unregister_app(self.web)


async def serve_actions(app: App, host: str, port: int) -> int:
    """``python -m bot rasa-actions``: serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    server = ActionServer(app, host, port)
    try:
        await server.start()
    except OSError:
        log.critical("the Rasa action server could not listen on %s:%s (--host, --port)", host, port)
        await server.stop()
        return 2
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await server.stop()
    return 0
