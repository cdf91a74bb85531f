"""``chat --jsonl``: one JSON object per line in, one per line out; and the delivery loop the
terminal's chat and console share."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, TextIO

from bot.app import App
from bot.deliveries import MediaToPerson, ToPerson
from bot.domain import Inbound, Outcome
from bot.jobs import describe
from bot.storage.outbox import Delivery

log = logging.getLogger(__name__)


CHANNEL = "terminal"
STAFF_CHANNEL = "console"
MAX_LINE = 1_000_000  # characters of one JSON line
MAX_ID = 64
MAX_MEDIA = 32
MAX_LANG = 16


def _write(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


async def deliver(app: App, emit: Any, target: str = "person", channel: str = CHANNEL) -> int:
    """Deliver everything due for a terminal channel through ``emit(delivery)``."""
    count = 0
    while True:
        batch = await app.outbox.due(channel, limit=100, target=target)
        if not batch:
            return count
        for item in batch:
            emit(item)
            count += 1
        await app.outbox.sent_many([(item.id, None) for item in batch])


# ---- jsonl -------------------------------------------------------------------------------------
class BadLine(ValueError):
    pass


def _string(obj: dict[str, Any], key: str, limit: int | None = None, ids: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if ids and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadLine(f'"{key}" must be a string' + (" or an integer" if ids else ""))
    if limit is not None and len(value) > limit:
        raise BadLine(f'"{key}" is longer than {limit} characters')
    if ids and (not value or not value.isprintable()):
        raise BadLine(f'"{key}" must be printable and not empty')
    return value


def parse_line(line: str) -> Inbound:
    """One input line -> the engine's Inbound, or BadLine with a clear reason."""
    if len(line) > MAX_LINE:
        raise BadLine(f"line longer than {MAX_LINE} characters")
    try:
        obj = json.loads(line)
    except RecursionError:
        raise BadLine("JSON nested too deeply") from None
    except ValueError as exc:
        raise BadLine(f"not JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise BadLine("expected a JSON object")
    user = _string(obj, "user", MAX_ID, ids=True)
    if user is None:
        raise BadLine('"user" is required (a string or an integer)')
    text = _string(obj, "text")
    button = _string(obj, "button", 256)
    media = _string(obj, "media", MAX_MEDIA)
    if media is not None and not re.fullmatch(r"[a-z_]{1,32}", media):
        raise BadLine('"media" must be a kind such as "photo" or "voice"')
    lang = _string(obj, "lang", MAX_LANG)
    if lang is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?", lang):
        raise BadLine('"lang" must be a language code such as "az" or "ru"')
    given = [k for k, v in (("text", text), ("button", button), ("media", media)) if v is not None]
    if not given:
        raise BadLine('one of "text", "button" or "media" is required')
    if len(given) > 1 and given != ["text", "media"]:
        raise BadLine(f"give one of {', '.join(given)}, not both (a button press carries no text)")
    return Inbound(
        channel=CHANNEL,
        user_id=user,
        text=text,
        button=button,
        media=media,
        language_hint=lang,
        external_id=_string(obj, "id", MAX_ID, ids=True),
    )


def jsonl_message(item: Delivery) -> dict[str, Any]:
    payload = item.payload
    if isinstance(payload, MediaToPerson):
        return {
            "to": item.address,
            "text": payload.label,
            "buttons": [],
            "kind": "media",
            "media": payload.media,
        }
    assert isinstance(payload, ToPerson)
    message: dict[str, Any] = {
        "to": item.address,
        "text": payload.text,
        "buttons": [{"text": b.text, "data": b.data} for b in payload.flat_buttons()],
    }
    if payload.relay:
        message["kind"] = "relay"
    return message


async def run_jsonl(app: App, stdin: TextIO, stdout: TextIO) -> int:
    """``{"user": "u1", "text": "..."}`` or ``{"user": "u1", "button": "<payload>"}`` per line."""
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
            inbound = parse_line(line)
        except BadLine as exc:
            _write(stdout, {"error": str(exc), "line": line_no})
            continue
        try:
            outcome: Outcome = await app.engine.handle(inbound)
        except Exception as exc:  # one bad line never ends the run
            log.error("line %d could not be handled: %s", line_no, describe(exc))
            _write(stdout, {"error": "not handled: internal error", "line": line_no})
            continue
        await deliver(app, lambda item: _write(stdout, jsonl_message(item)))
        for event in outcome.events:
            _write(stdout, event.as_dict())
    await deliver(app, lambda item: _write(stdout, jsonl_message(item)))
    return 0
