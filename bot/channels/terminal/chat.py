"""``chat``: an interactive chat in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TextIO

from bot.app import App
from bot.channels.terminal.jsonl import CHANNEL, deliver, jsonl_message
from bot.domain import Inbound
from bot.jobs import describe
from bot.storage.outbox import Delivery

log = logging.getLogger(__name__)


async def run_chat(app: App, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Only the latest message's buttons are numbered and pressable, so a number never means two things."""
    buttons: list[str] = []

    def emit(item: Delivery) -> None:
        message = jsonl_message(item)
        stdout.write("\n🤖 " + message["text"].replace("\n", "\n   ") + "\n")
        if message["buttons"]:
            buttons.clear()
            for i, b in enumerate(message["buttons"], 1):
                buttons.append(b["data"])
                stdout.write(f"   [{i}] {b['text']}\n")
        stdout.flush()

    async def poll() -> None:  # a counsellor may answer from another terminal
        while True:
            await asyncio.sleep(1.0)
            with contextlib.suppress(Exception):
                if await deliver(app, emit):
                    stdout.write("> ")
                    stdout.flush()

    stdout.write(app.content.t("cli.chat_intro") + "\n")
    poller = asyncio.create_task(poll())
    loop = asyncio.get_running_loop()
    try:
        while True:
            stdout.write("> ")
            stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if line.strip() in ("/quit", "/exit"):
                break
            button = None
            if line.strip().isdigit() and 0 < int(line.strip()) <= len(buttons):
                button = buttons[int(line.strip()) - 1]
            buttons.clear()
            try:
                await app.engine.handle(
                    Inbound(channel=CHANNEL, user_id=user, text=None if button else line, button=button)
                )
            except Exception as exc:
                log.error("could not handle the message: %s", describe(exc))
                stdout.write(app.content.t("error.internal") + "\n")
            await deliver(app, emit)
    finally:
        poller.cancel()
    return 0
