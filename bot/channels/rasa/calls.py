"""What an action call from Rasa says, read and checked at the edge (no rasa-sdk import here).

Rasa posts ``{"next_action", "sender_id", "tracker": {"sender_id", "slots", "latest_message",
"events", ...}, "domain", "version"}`` to the action server's ``/webhook``. :func:`check` checks the
shape before rasa-sdk runs anything (a malformed call is answered 400 in rasa-sdk's error format and
nothing is stored); :func:`read_call` turns a tracker into the :class:`Call` an action needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.channels.rasa import BUTTON_ENTITY, BUTTON_INTENT, SLOT_LANGUAGE
from bot.domain import LANGUAGES

MAX_SENDER = 256
MAX_TEXT = 100_000  # characters of one message (the engine stores at most 200,000)
MAX_BUTTON = 64
CONTEXT_MESSAGES = 5  # earlier user messages of the session that give the latest one its context
CONTEXT_CHARS = 2_000
_LANG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?")


class BadCall(ValueError):
    """The action call cannot be handled as it is (answered 400, nothing stored)."""

    def __init__(self, reason: str, action: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action = action


@dataclass(frozen=True)
class Call:
    """One action call, as the helpline's actions use it."""

    action: str
    sender_id: str
    text: str | None  # the latest user message (None when the tracker has none)
    button: str | None  # a helpline button's payload, when the latest message is one
    message_key: str  # the latest user message's id (or its timestamp and text)
    position: int  # events since that message: a second action after it is another turn
    history: tuple[str, ...] = ()  # earlier user messages of this session, oldest first
    language_hint: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    entities: tuple[dict[str, Any], ...] = ()

    def slot(self, name: str) -> Any:
        return self.slots.get(name)


def check(body: Any) -> None:
    """Raise :class:`BadCall` (with the action's name when known) if a ``/webhook`` body cannot be an
    action call."""
    if not isinstance(body, dict):
        raise BadCall("the body must be a JSON object")
    action = body.get("next_action")
    if not isinstance(action, str) or not action.strip():
        raise BadCall('"next_action" must be the name of an action')
    tracker = body.get("tracker")
    if not isinstance(tracker, dict):
        raise BadCall('"tracker" must be an object', action)
    sender = tracker.get("sender_id")
    if not isinstance(sender, str) or not sender or len(sender) > MAX_SENDER or not sender.isprintable():
        raise BadCall(
            f'"tracker.sender_id" must be a printable string of 1 to {MAX_SENDER} characters', action
        )
    for key, kind in (("latest_message", dict), ("events", list), ("slots", dict)):
        value = tracker.get(key)
        if value is not None and not isinstance(value, kind):
            raise BadCall(f'"tracker.{key}" must be {"an object" if kind is dict else "a list"}', action)
    if body.get("domain") is not None and not isinstance(body["domain"], dict):
        raise BadCall('"domain" must be an object', action)


def read_call(
    action: str,
    sender_id: Any,
    latest_message: Any,
    events: Any,
    slots: Any,
) -> Call:
    """The call an action handles; :class:`BadCall` names what is wrong."""
    if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SENDER:
        raise BadCall("the tracker has no usable sender_id")
    latest = latest_message if isinstance(latest_message, dict) else {}
    events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    slots = slots if isinstance(slots, dict) else {}
    text = latest.get("text")
    if text is not None and not isinstance(text, str):
        raise BadCall('"latest_message.text" must be a string')
    if text is not None and len(text) > MAX_TEXT:
        raise BadCall(f'"latest_message.text" is longer than {MAX_TEXT} characters')
    entities = tuple(e for e in latest.get("entities") or () if isinstance(e, dict))
    button = button_data(text, latest.get("intent"), entities)
    session = _after_session_start(events)
    index = _latest_user_index(session, latest.get("message_id"))
    key = _message_key(latest, session[index] if index is not None else None)
    position = len(session) - index - 1 if index is not None else len(session)
    earlier = session[:index] if index is not None else session
    history = tuple(
        e["text"][:CONTEXT_CHARS]
        for e in earlier
        if e.get("event") == "user" and isinstance(e.get("text"), str) and _is_words(e["text"])
    )[-CONTEXT_MESSAGES:]
    return Call(
        action=action,
        sender_id=sender_id,
        text=None if button is not None else text,
        button=button,
        message_key=key,
        position=position,
        history=history,
        language_hint=_language(slots, latest),
        slots=slots,
        entities=entities,
    )


# ---- buttons ------------------------------------------------------------------------------------
def button_payload(data: str) -> str:
    """The payload of a helpline button in Rasa: an intent with the button's data as its entity."""
    return "/" + BUTTON_INTENT + json.dumps({BUTTON_ENTITY: data}, ensure_ascii=False, separators=(",", ":"))


def button_data(text: Any, intent: Any, entities: tuple[dict[str, Any], ...]) -> str | None:
    """The data of a helpline button the person pressed, or None if the message is not one."""
    named = intent.get("name") if isinstance(intent, dict) else None
    value = next((e.get("value") for e in entities if e.get("entity") == BUTTON_ENTITY), None)
    if value is None and isinstance(text, str) and text.startswith("/" + BUTTON_INTENT + "{"):
        try:
            parsed = json.loads(text[len(BUTTON_INTENT) + 1 :])
        except ValueError:
            parsed = None
        value = parsed.get(BUTTON_ENTITY) if isinstance(parsed, dict) else None
        named = BUTTON_INTENT
    if named != BUTTON_INTENT and value is None:
        return None
    if not isinstance(value, str) or not value or len(value.encode()) > MAX_BUTTON:
        raise BadCall(f'a "{BUTTON_INTENT}" message needs a "{BUTTON_ENTITY}" entity of at most 64 bytes')
    return value


# ---- the tracker's events -----------------------------------------------------------------------
def _after_session_start(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = 0
    for i, event in enumerate(events):
        if event.get("event") in ("session_started", "restart"):
            start = i + 1
    return events[start:]


def _latest_user_index(events: list[dict[str, Any]], message_id: Any) -> int | None:
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if message_id:
        for i in reversed(users):
            if events[i].get("message_id") == message_id:
                return i
    return users[-1] if users else None


def _message_key(latest: dict[str, Any], event: dict[str, Any] | None) -> str:
    message_id = latest.get("message_id") or (event or {}).get("message_id")
    if isinstance(message_id, str | int) and str(message_id):
        return f"id:{message_id}"
    stamp = (event or {}).get("timestamp")
    return f"at:{stamp}:{latest.get('text') or ''}"


def _is_words(text: str) -> bool:
    """A person's words, not an intent payload such as ``/greet`` or a button."""
    return bool(text.strip()) and not text.startswith("/")


def _language(slots: dict[str, Any], latest: dict[str, Any]) -> str | None:
    metadata = latest.get("metadata") if isinstance(latest.get("metadata"), dict) else {}
    for value in (slots.get(SLOT_LANGUAGE), metadata.get("language"), metadata.get("lang")):
        if isinstance(value, str) and _LANG.fullmatch(value):
            code = value.split("-")[0].split("_")[0].lower()
            if code in LANGUAGES:
                return code
    return None
