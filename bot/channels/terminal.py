"""The terminal channel: try the whole loop without Telegram.

- ``chat``: an interactive chat; buttons are numbered, type the number to press one.
- ``chat --jsonl``: one JSON object per line in, one per line out (for tests and content authors).
- ``staff``: a counsellor console over the same database (queue, claim, reply, close).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from bot.app import App
from bot.domain import Inbound, Outcome
from bot.outbox import Delivery
from bot.staff import REASON_KEYS, CaseView, StaffMember

CHANNEL = "terminal"


def _write(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


async def deliver(app: App, emit: Any) -> int:
    """Deliver everything due for the terminal channel through ``emit(delivery)``."""
    count = 0
    while True:
        batch = await app.outbox.due(CHANNEL, limit=100, target="person")
        if not batch:
            return count
        for item in batch:
            emit(item)
            await app.outbox.sent(item.id)
            count += 1


# ---- jsonl -------------------------------------------------------------------------------------
async def run_jsonl(app: App, stdin: TextIO, stdout: TextIO) -> int:
    """``{"user": "u1", "text": "..."}`` or ``{"user": "u1", "button": "<payload>"}`` per line."""

    def emit(item: Delivery) -> None:
        message: dict[str, Any] = {"to": item.address, "text": item.payload.get("text", "")}
        buttons = [b for row in item.payload.get("buttons") or [] for b in row]
        message["buttons"] = buttons
        if item.kind != "text":
            message["kind"] = item.kind
        _write(stdout, message)

    loop = asyncio.get_running_loop()
    line_no = 0
    while True:
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        line_no += 1
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            user = obj.get("user")
            if not isinstance(user, str | int) or str(user) == "":
                raise ValueError('"user" is required (a string)')
            text, button = obj.get("text"), obj.get("button")
            if text is not None and not isinstance(text, str):
                raise ValueError('"text" must be a string')
            if button is not None and not isinstance(button, str):
                raise ValueError('"button" must be a string')
            if text is None and button is None and obj.get("media") is None:
                raise ValueError('one of "text", "button" or "media" is required')
        except ValueError as exc:
            _write(stdout, {"error": str(exc), "line": line_no})
            continue
        outcome: Outcome = await app.engine.handle(
            Inbound(
                channel=CHANNEL,
                user_id=str(user),
                text=text,
                button=button,
                media=obj.get("media"),
                language_hint=obj.get("lang"),
                external_id=str(obj["id"]) if obj.get("id") is not None else None,
            )
        )
        await deliver(app, emit)
        for event in outcome.events:
            _write(stdout, event.as_dict())
    await deliver(app, emit)
    return 0


# ---- interactive chat --------------------------------------------------------------------------
async def run_chat(app: App, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    buttons: list[str] = []

    def emit(item: Delivery) -> None:
        stdout.write("\n🤖 " + item.payload.get("text", "").replace("\n", "\n   ") + "\n")
        flat = [b for row in item.payload.get("buttons") or [] for b in row]
        if flat:
            buttons.clear()
            for i, b in enumerate(flat, 1):
                buttons.append(b["data"])
                stdout.write(f"   [{i}] {b['text']}\n")
        stdout.flush()

    async def poll() -> None:  # a counsellor may answer from another terminal
        while True:
            await asyncio.sleep(1.0)
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
            await app.engine.handle(
                Inbound(channel=CHANNEL, user_id=user, text=None if button else line, button=button)
            )
            await deliver(app, emit)
    finally:
        poller.cancel()
    return 0


# ---- staff console -----------------------------------------------------------------------------
def _card(app: App, view: CaseView, lang: str) -> str:
    from bot.storage.models import utcnow

    t = app.content.t
    waited = int(view.waiting_seconds(utcnow()) // 60)
    lines = [
        t(
            "staff.card_title",
            lang,
            case=view.id,
            priority=view.priority,
            risk=t(f"staff.risk.{view.risk.value}", lang),
        ),
        t(
            "staff.card_meta",
            lang,
            status=view.status,
            category=app.content.category_label(view.category, lang),
            topics=", ".join(app.content.topic_label(x, lang) for x in view.topics) or "-",
            who=t(f"staff.who.{view.audience}", lang),
            minutes=waited,
        ),
    ]
    if view.signals:
        lines.append(t("staff.card_signals", lang, signals="; ".join(s.label for s in view.signals[-5:])))
    if view.assignee_name:
        lines.append(t("staff.claimed_by", lang, name=view.assignee_name))
    for sender, text in view.last_messages:
        lines.append(f"  {t('staff.sender.' + sender, lang)}: {text[:300]}")
    return "\n".join(lines)


async def run_staff(
    app: App, name: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, lang: str = "az"
) -> int:
    staff = StaffMember(id=f"terminal:{name}", name=name)
    t = app.content.t
    stdout.write(t("staff.console_intro", lang) + "\n")
    loop = asyncio.get_running_loop()
    while True:
        stdout.write("staff> ")
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            return 0
        cmd, _, rest = line.strip().partition(" ")
        arg, _, text = rest.partition(" ")
        case_id = int(arg) if arg.isdigit() else None
        if cmd in ("quit", "exit"):
            return 0
        if cmd in ("queue", "q", "/queue"):
            views = await app.desk.queue()
            stdout.write(
                ("\n\n".join(_card(app, v, lang) for v in views) or t("staff.queue_empty", lang)) + "\n"
            )
            continue
        if cmd in ("claim", "show", "reply", "close", "release") and case_id is None:
            stdout.write(t("staff.usage", lang) + "\n")
            continue
        if cmd == "show":
            view = await app.desk.case(case_id, messages=20)
            stdout.write((_card(app, view, lang) if view else t("staff.not_found", lang)) + "\n")
            continue
        if cmd == "claim":
            result = await app.desk.claim(case_id, staff)
        elif cmd == "reply":
            result = await app.desk.reply(case_id, staff, text=text)
        elif cmd == "close":
            result = await app.desk.close(case_id, staff)
        elif cmd == "release":
            result = await app.desk.release(case_id, staff)
        else:
            stdout.write(t("staff.usage", lang) + "\n")
            continue
        if result.ok:
            stdout.write(t(f"staff.done.{cmd}", lang, case=case_id) + "\n")
        else:
            stdout.write(
                t(
                    REASON_KEYS.get(result.reason, "staff.not_open"),
                    lang,
                    case=case_id,
                    name=result.holder or "?",
                )
                + "\n"
            )
