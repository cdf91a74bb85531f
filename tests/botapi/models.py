"""Records the fake Bot API server keeps, and the ones tests inspect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Keys of a Message that hold its content (what copyMessage carries over).
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    "animation",
    "audio",
    "document",
    "photo",
    "sticker",
    "video",
    "video_note",
    "voice",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "dice",
    "location",
    "venue",
    "poll",
)
# The first of these keys a Message has names its kind.
KIND_KEYS = (
    "text",
    "photo",
    "voice",
    "sticker",
    "document",
    "audio",
    "video",
    "animation",
    "video_note",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "forum_topic_created",
)


class ApiError(Exception):
    """An error answer of the Bot API. ``violation`` marks a call the real Telegram rejects as malformed."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        violation: bool = False,
        problems: list[str] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.violation = violation
        self.problems = problems or [description]

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str, *, violation: bool = False) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", violation=violation)


@dataclass
class StoredFile:
    """A file Telegram knows: ``obj`` is its Telegram object (a list of PhotoSize for photos)."""

    file_id: str
    kind: str
    obj: Any


@dataclass
class StoredMessage:
    """One message in a simulated chat (sent by the bot or by a person).

    ``data`` is the Telegram ``Message`` object in its current state (after edits); ``history`` keeps
    the earlier states. ``method`` is the bot call that created it (None for people's messages).
    """

    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    method: str | None = None
    thread_id: int | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    copied_from: tuple[int, int] | None = None

    @property
    def text(self) -> str | None:
        """Visible text (or caption) as Telegram stores it: markup parsed, whitespace stripped."""
        return self.data.get("text", self.data.get("caption"))

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.data.get("entities", self.data.get("caption_entities", []))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The inline keyboard currently attached (None after it was removed by an edit)."""
        return self.data.get("reply_markup")

    @property
    def kind(self) -> str:
        return next((key for key in KIND_KEYS if key in self.data), "other")

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, flattened."""
        markup = self.reply_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def __repr__(self) -> str:
        text = self.text if self.text is None or len(self.text) < 60 else self.text[:57] + "..."
        flags = " deleted" if self.deleted else ""
        return (
            f"<StoredMessage chat={self.chat_id} id={self.message_id} thread={self.thread_id} "
            f"{self.method or 'incoming'} {self.kind} {text!r}{flags}>"
        )


@dataclass
class Call:
    """One call the bot made (``method`` is the canonical name when the method exists).

    ``params`` are decoded and typed (JSON strings parsed, "42" -> 42); ``raw`` as they arrived.
    """

    seq: int
    method: str
    params: dict[str, Any]
    at: float
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # parameters exactly as received
    message: StoredMessage | None = None  # the message this call created or edited

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"<Call #{self.seq} {self.method} {outcome}>"


@dataclass
class Violation:
    """A call the real Telegram would reject as malformed (the bot has a bug)."""

    method: str
    description: str
    params: dict[str, Any]  # as received
    problems: list[str]

    def __str__(self) -> str:
        extra = "; ".join(self.problems[1:])
        return f"{self.method}: {self.description}" + (f" (also: {extra})" if extra else "")


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    created_by_bot: bool = True

    def to_forum_topic(self) -> dict[str, Any]:
        topic: dict[str, Any] = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False  # has a private chat with the bot
    blocked: bool = False

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                chat[key] = getattr(self, key)
        return chat


@dataclass
class CallbackAnswer:
    callback_query_id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    text: str | None = None
    show_alert: bool = False


@dataclass
class PendingCallback:
    query_id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answered: bool = False


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's documented broadcasting limits (approximate: Telegram does not publish exact rules).

    Private chats: about one message per second, short bursts allowed (a token bucket of
    ``private_burst`` messages refilled at ``private_per_second``). Groups: ``group_per_minute``.
    Overall: ``global_per_second``.
    """

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class WebhookDelivery:
    """Outcome of pushing one update to a webhook (status 0: the request failed)."""

    status: int
    body: str
