"""What waits in the outbox, typed: one dataclass per kind of delivery, written by the core and
rendered by a channel adapter. ``encode`` / ``decode`` are the only places that know the JSON shape.

To a person: :class:`ToPerson` (the bot's words or a counsellor's, with buttons) and
:class:`MediaToPerson` (a counsellor's photo, voice note or file, copied).
To the staff side: :class:`CaseNote` (a case event: a new case, a rise of risk, a claim, a close),
:class:`RelayIn` (what the person wrote), :class:`Reminder` (an unclaimed crisis case, again),
:class:`StaffNotice` (an answer to a counsellor's command) and :class:`Withdraw` (the person used
/forget: remove their words from the staff side).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.domain import Button, CaseEvent, Reply


@dataclass(frozen=True)
class ToPerson:
    kind = "text"
    text: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    relay: bool = False  # a counsellor's words (shown under the neutral counsellor name)

    @classmethod
    def of(cls, reply: Reply) -> ToPerson:
        rows = [[{"text": b.text, "data": b.data} for b in row] for row in reply.buttons]
        return cls(text=reply.text, buttons=rows, relay=reply.kind == "relay")

    def flat_buttons(self) -> list[Button]:
        return [Button(b["text"], b["data"]) for row in self.buttons for b in row if b.get("data")]


@dataclass(frozen=True)
class MediaToPerson:
    kind = "media"
    media: str  # photo | voice | document | ...
    label: str  # what the person sees with it, under the neutral counsellor name
    caption: str = ""
    media_ref: dict[str, Any] = field(default_factory=dict)  # the staff channel's reference to copy


@dataclass(frozen=True)
class CaseNote:
    kind = "case_event"
    event: dict[str, Any]  # CaseEvent.as_dict()
    excerpt: str = ""  # the words that raised the risk (deleted with the person by /forget)

    @classmethod
    def of(cls, event: CaseEvent, excerpt: str = "") -> CaseNote:
        return cls(event=event.as_dict(), excerpt=excerpt)

    @property
    def name(self) -> str:
        return str(self.event.get("event", ""))

    @property
    def reason(self) -> str:
        return str(self.event.get("reason", ""))

    @property
    def priority(self) -> int:
        return int(self.event.get("priority") or 0)


@dataclass(frozen=True)
class RelayIn:
    kind = "relay_in"
    text: str = ""
    media: str | None = None
    media_ref: dict[str, Any] = field(default_factory=dict)  # the person's channel's reference


@dataclass(frozen=True)
class Reminder:
    kind = "reminder"
    case: int
    priority: int
    risk: str


@dataclass(frozen=True)
class StaffNotice:
    kind = "notice"
    text: str
    html: bool = False
    pre: bool = False  # a table: shown monospaced
    reply_to: int | None = None
    thread_id: int | None = None


@dataclass(frozen=True)
class Withdraw:
    """The person used /forget: take their words out of the staff side (relayed copies)."""

    kind = "withdraw"
    cases: list[int] = field(default_factory=list)


Payload = ToPerson | MediaToPerson | CaseNote | RelayIn | Reminder | StaffNotice | Withdraw
KINDS: dict[str, type] = {
    cls.kind: cls for cls in (ToPerson, MediaToPerson, CaseNote, RelayIn, Reminder, StaffNotice, Withdraw)
}
KINDS["relay"] = ToPerson  # older rows: a counsellor's words had a kind of their own


def encode(payload: Payload) -> tuple[str, dict[str, Any]]:
    return payload.kind, asdict(payload)


def decode(kind: str, data: dict[str, Any] | None) -> Payload:
    """The typed payload of an outbox row; unknown keys (from an older version) are ignored."""
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown outbox kind {kind!r}")
    data = dict(data or {})
    if kind == "relay":
        data["relay"] = True
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
