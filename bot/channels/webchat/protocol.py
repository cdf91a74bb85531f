"""The web chat's JSON protocol over the WebSocket (``GET /chat/ws``).

From the browser, one JSON object per frame:

- ``{"type": "hello", "session": <token or null>, "lang": "az"|"ru"|"en"|null}`` first;
- ``{"type": "text", "text": "...", "id": <optional message id>}``;
- ``{"type": "button", "data": "<payload>", "id": <optional message id>}``.

From the server:

- ``{"type": "session", "session": <token>, "new": <bool>}`` once, after the hello;
- ``{"type": "message", "id": <n>, "text": "...", "buttons": [{"text", "data"}], "kind": "bot"|"relay"}``
  for every message, in order (``status``: ``counsellor_joined`` / ``counsellor_left`` on the
  messages that say so; ``id``: the same message delivered twice after a crash has the same id);
- ``{"type": "ack", "id": <message id>}`` once a message from the browser is stored (a message that
  was not acknowledged may be sent again with the same id: it is handled once);
- ``{"type": "refused", "id": <message id or null>, "reason": "too_long"|"too_fast"|"invalid"|
  "unavailable"|"too_many_connections", "text": "...", "retry_after": <seconds>}`` when a message
  was not taken (nothing refused was stored; the widget keeps the text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.deliveries import MediaToPerson, ToPerson
from bot.domain import DEFAULT_LANGUAGE, LANGUAGES
from bot.storage.outbox import Delivery

MAX_BUTTON = 256
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class BadFrame(ValueError):
    """A frame that is not one of the protocol's messages; ``message_id`` when it had one."""

    def __init__(self, problem: str, message_id: str | None = None) -> None:
        super().__init__(problem)
        self.message_id = message_id


@dataclass(frozen=True)
class Hello:
    session: str | None
    lang: str


@dataclass(frozen=True)
class Say:
    """A person's text or button press."""

    text: str | None = None
    button: str | None = None
    message_id: str | None = None


def language(value: object) -> str:
    if isinstance(value, str):
        code = value.split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def parse(raw: str) -> Hello | Say:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadFrame("not JSON") from None
    if not isinstance(obj, dict):
        raise BadFrame("not a JSON object")
    message_id = obj.get("id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if message_id is not None and not (isinstance(message_id, str) and MESSAGE_ID.fullmatch(message_id)):
        raise BadFrame("bad id")
    kind = obj.get("type")
    if kind == "hello":
        session = obj.get("session")
        return Hello(
            session=session if isinstance(session, str) and session else None, lang=language(obj.get("lang"))
        )
    if kind == "text":
        text = obj.get("text")
        if not isinstance(text, str):
            raise BadFrame("text must be a string", message_id)
        return Say(text=text, message_id=message_id)
    if kind == "button":
        data = obj.get("data")
        if not isinstance(data, str) or not data or len(data) > MAX_BUTTON:
            raise BadFrame("data must be a short string", message_id)
        return Say(button=data, message_id=message_id)
    raise BadFrame("unknown type", message_id)


def message(item: Delivery, status: str | None = None) -> dict[str, Any]:
    """One outbox item as the browser gets it."""
    payload = item.payload
    out: dict[str, Any]
    if isinstance(payload, MediaToPerson):  # a counsellor's file from Telegram: the web shows its label
        out = {"type": "message", "id": item.id, "text": payload.label, "buttons": [], "kind": "relay"}
    elif isinstance(payload, ToPerson):
        out = {
            "type": "message",
            "id": item.id,
            "text": payload.text,
            "buttons": [{"text": b.text, "data": b.data} for b in payload.flat_buttons()],
            "kind": "relay" if payload.relay else "bot",
        }
    else:
        raise TypeError(f"not a message for a person: {type(payload).__name__}")
    if status:
        out["status"] = status
    return out
