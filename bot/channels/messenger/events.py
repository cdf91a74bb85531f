"""Meta's webhook bodies, read: which messaging events matter, their ids, and the engine's Inbound.

One webhook request carries ``entry`` items of an ``object`` (``page`` for Messenger, ``instagram``
for Instagram), each with ``messaging`` events:

- ``message`` with ``text``, ``quick_reply.payload`` (a quick reply the bot offered), ``attachments``
  (image, video, audio, file, ...) or a ``sticker_id``: handled;
- ``postback`` with ``payload`` (a button of a button template; the Get Started button and the
  persistent menu, whose payloads are commands such as ``/start``): handled;
- echoes of the Page's own messages (``is_echo``), deleted messages, delivery and read receipts,
  reactions, referrals, opt-ins: ignored (nothing stored, nothing answered).

An event's id in the inbox is derived from its ``mid`` (a postback without one: from the sender,
time and payload); Meta's ids are longer than the inbox's column, so they are hashed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from bot.domain import Inbound

MESSENGER, INSTAGRAM = "messenger", "instagram"
CHANNELS = (MESSENGER, INSTAGRAM)
CHANNEL_OF_OBJECT = {"page": MESSENGER, "instagram": INSTAGRAM}
MAX_ID = 64  # a PSID/IGSID is about 16 digits
MEDIA_OF_ATTACHMENT = {
    "image": "photo",
    "video": "video",
    "audio": "voice",
    "file": "document",
    "ig_reel": "video",
    "reel": "video",
}


@dataclass(frozen=True)
class Event:
    channel: str  # messenger | instagram
    external_id: str  # the inbox key
    sender: str  # the PSID (Messenger) or IGSID (Instagram): the person, and where replies go
    data: dict[str, Any]  # the messaging event as Meta sent it (kept in the inbox until handled)

    def stored(self) -> dict[str, Any]:
        return {"channel": self.channel, "event": self.data}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:48]


def _sender(data: dict[str, Any]) -> str | None:
    sender = data.get("sender")
    raw = sender.get("id") if isinstance(sender, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw or len(raw) > MAX_ID or not raw.isalnum():
        return None
    return raw


def event_of(channel: str, data: Any) -> Event | None:
    """The event to handle in one ``messaging`` item, or None for what is ignored."""
    if not isinstance(data, dict):
        return None
    sender = _sender(data)
    if sender is None:
        return None
    message = data.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") or message.get("is_deleted"):
            return None
        mid = message.get("mid")
        if not isinstance(mid, str) or not mid:
            return None
        return Event(channel, "m:" + _digest(mid), sender, data)
    postback = data.get("postback")
    if isinstance(postback, dict):
        mid = postback.get("mid")
        if isinstance(mid, str) and mid:
            key = "p:" + _digest(mid)
        else:
            stamp = str(data.get("timestamp") or "")
            key = "p:" + _digest(
                sender, stamp, str(postback.get("payload") or ""), str(postback.get("title"))
            )
        return Event(channel, key, sender, data)
    return None  # delivery, read, reaction, referral, optin, ...


def events_of(body: Any) -> list[Event]:
    """Every event to handle in a webhook body, in the order Meta sent them."""
    if not isinstance(body, dict):
        return []
    channel = CHANNEL_OF_OBJECT.get(body.get("object"))  # type: ignore[arg-type]
    entries = body.get("entry")
    if channel is None or not isinstance(entries, list):
        return []
    found: list[Event] = []
    for entry in entries:
        messaging = entry.get("messaging") if isinstance(entry, dict) else None
        for data in messaging if isinstance(messaging, list) else ():
            event = event_of(channel, data)
            if event is not None:
                found.append(event)
    return found


def from_stored(external_id: str, stored: Any) -> Event | None:
    """An event as it was kept in the inbox (for a replay)."""
    if not isinstance(stored, dict) or stored.get("channel") not in CHANNELS:
        return None
    event = event_of(stored["channel"], stored.get("event"))
    if event is None:
        return None
    return Event(event.channel, external_id, event.sender, event.data)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def to_inbound(event: Event) -> Inbound:
    """The engine's view of one event: the person's words, a button payload, or what media came."""
    data = event.data
    base = {"channel": event.channel, "user_id": event.sender, "address": event.sender}
    postback = data.get("postback")
    if isinstance(postback, dict) and not isinstance(data.get("message"), dict):
        payload = _text(postback.get("payload"))
        if payload is not None and payload.startswith("/"):  # Get Started, the persistent menu
            return Inbound(**base, text=payload, external_id=event.external_id)
        if payload is None:
            return Inbound(**base, text=_text(postback.get("title")), external_id=event.external_id)
        return Inbound(**base, button=payload, external_id=event.external_id)
    message = data.get("message") or {}
    quick = message.get("quick_reply")
    payload = _text(quick.get("payload")) if isinstance(quick, dict) else None
    if payload is not None:
        return Inbound(**base, button=payload, external_id=event.external_id)
    text = _text(message.get("text"))
    media: str | None = None
    ref: dict[str, Any] = {}
    attachments = message.get("attachments")
    if message.get("sticker_id"):
        media = "sticker"
    elif isinstance(attachments, list) and attachments:
        first = attachments[0] if isinstance(attachments[0], dict) else {}
        kind = str(first.get("type") or "")
        media = MEDIA_OF_ATTACHMENT.get(kind, "attachment")
        payload_of = first.get("payload")
        if kind == "image" and isinstance(payload_of, dict) and payload_of.get("sticker_id"):
            media = "sticker"
        ref = {"type": kind[:32], "count": len(attachments)}
    elif message.get("is_unsupported"):
        media = "attachment"
    return Inbound(**base, text=text, media=media, media_ref=ref, external_id=event.external_id)
