"""The Messenger channel alone in a process, to be killed for real by tests (``spawn_bot`` in
fixtures.py): ``python -m tests.graphapi.bot_process GRAPH_URL DATABASE_URL DATA_DIR TRIAGE``.

It builds the App (TRIAGE: a triage model cache directory, or "fake" for no triage at all), serves
``/webhooks/messenger`` on the bot's HTTP server at an ephemeral port, prints ``READY <port>`` and runs
until it is killed. Only what the channel needs is imported, so a restart is quick."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import build_app
from bot.domain import Category, Risk, TriageResult
from bot.texts import load_content
from tests.graphapi.channel import FAST, ms_settings, start_channel


class NoTriage:
    def analyze(self, text: str, prior: Any = ()) -> TriageResult:
        return TriageResult(Category.OTHER, Risk.NONE, "az")


async def serve(graph_url: str, database_url: str, data_dir: str, triage: str) -> None:
    if triage == "fake":
        triager: Any = NoTriage()
    else:
        from bot.triage import load_triager

        triager = load_triager(Path(triage))
    settings = ms_settings(database_url, Path(data_dir), graph_url)
    app = await build_app(settings, content=load_content(validate=False), triager=triager)
    _channel, http = await start_channel(app, graph_url, replace(FAST, check_token=False))
    print("READY", http.port, flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:5]))
