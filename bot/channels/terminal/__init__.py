"""The terminal channel: try the whole loop without Telegram.

- ``chat``: an interactive chat; the latest message's buttons are numbered, type the number to press one.
- ``chat --jsonl``: one JSON object per line in, one per line out (for tests and content authors).
- ``staff``: a counsellor console over the same database (queue, claim, reply, close with an outcome),
  which also shows what the Telegram staff chat would: new cases, rises of risk, people who left,
  reminders for unclaimed crisis cases.
"""

from bot.channels.terminal.chat import run_chat
from bot.channels.terminal.console import Console, run_staff
from bot.channels.terminal.jsonl import CHANNEL, STAFF_CHANNEL, BadLine, deliver, parse_line, run_jsonl

__all__ = [
    "CHANNEL",
    "STAFF_CHANNEL",
    "BadLine",
    "Console",
    "deliver",
    "parse_line",
    "run_chat",
    "run_jsonl",
    "run_staff",
]
