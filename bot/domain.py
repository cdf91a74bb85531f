"""The engine's own vocabulary: channel-agnostic value types.

Nothing here imports a channel library or the database. Channel adapters translate
their updates into :class:`Inbound` and render :class:`Reply` / :class:`CaseEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Risk(StrEnum):
    """Risk levels, ordered from none to imminent."""

    NONE = "none"
    ELEVATED = "elevated"
    URGENT = "urgent"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        return _RISK_ORDER[self]

    @property
    def escalates(self) -> bool:
        """Urgent and imminent risk go to a human counsellor at once."""
        return self.rank >= _RISK_ORDER[Risk.URGENT]

    @classmethod
    def max(cls, *levels: Risk | str | None) -> Risk:
        found = [cls(level) for level in levels if level]
        return max(found, key=lambda r: r.rank) if found else cls.NONE


_RISK_ORDER = {Risk.NONE: 0, Risk.ELEVATED: 1, Risk.URGENT: 2, Risk.IMMINENT: 3}


class Category(StrEnum):
    """The helpline's six reporting categories."""

    EDUCATION = "education"
    LEGAL = "legal"
    PSYCHOLOGICAL = "psychological"
    SOCIAL = "social"
    HEALTH = "health"
    OTHER = "other"


class Audience(StrEnum):
    """Who is writing, as the helpline reports it."""

    CHILD = "child"
    ADULT = "adult"
    UNKNOWN = "unknown"


class CaseStatus(StrEnum):
    """Lifecycle of a case: the bot handles it, then a counsellor may."""

    BOT = "bot"
    QUEUED = "queued"
    CLAIMED = "claimed"
    CLOSED = "closed"


# Queue priority: higher is more urgent. Every crisis (urgent or imminent risk) gets the highest
# priority; within it, the queue puts imminent before urgent, then the longest waiting first.
PRIORITY_BY_RISK = {Risk.NONE: 1, Risk.ELEVATED: 2, Risk.URGENT: 3, Risk.IMMINENT: 3}
PRIORITY_HIGHEST = PRIORITY_BY_RISK[Risk.IMMINENT]

LANGUAGES = ("az", "ru", "en")
DEFAULT_LANGUAGE = "az"


@dataclass(frozen=True)
class Signal:
    """One reason a risk level was raised, in words a counsellor understands."""

    code: str  # stable identifier, e.g. "suicidal_intent"
    level: Risk
    label: str  # short explanation for staff, e.g. "says they want to die"
    evidence: str = ""  # the matched fragment of the normalised text


@dataclass(frozen=True)
class TriageResult:
    category: Category
    risk: Risk
    language: str  # "az", "ru", "en" or another ISO code / "unknown"
    topics: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    confidence: float = 0.0  # classifier's probability for the category
    third_person: bool = False  # the message is about someone else
    audience_hint: Audience = Audience.UNKNOWN  # e.g. a parent writing about a child

    @property
    def escalate(self) -> bool:
        return self.risk.escalates

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "risk": self.risk.value,
            "escalate": self.escalate,
            "language": self.language,
            "topics": list(self.topics),
            "signals": [
                {"code": s.code, "level": s.level.value, "label": s.label, "evidence": s.evidence}
                for s in self.signals
            ],
        }


@dataclass(frozen=True)
class Button:
    text: str
    data: str


@dataclass(frozen=True)
class Reply:
    """A message the bot sends to the person."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    kind: str = "text"  # "text" | "relay" (a counsellor's message) | "media"


@dataclass(frozen=True)
class Inbound:
    """One message from a person, as a channel adapter hands it to the engine.

    ``user_id`` is the channel's raw id: the engine turns it into a keyed hash and
    never stores it in clear. ``address`` is where replies go (a chat id); it is
    stored encrypted so the bot can write back later (a counsellor's answer).
    """

    channel: str
    user_id: str
    text: str | None = None
    button: str | None = None
    language_hint: str | None = None
    external_id: str | None = None  # the channel's id of this update, for de-duplication
    address: str | None = None
    media: str | None = None  # "photo", "voice", "sticker", "document", ... when not text
    media_ref: dict[str, Any] = field(default_factory=dict)  # channel data to copy the media


@dataclass(frozen=True)
class CaseEvent:
    kind: str  # "case_opened" | "case_updated" | "case_claimed" | "case_closed" | "user_message"
    case_id: int
    priority: int
    risk: Risk
    category: Category | None
    topics: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.kind,
            "case": self.case_id,
            "priority": self.priority,
            "risk": self.risk.value,
            "category": self.category.value if self.category else None,
            "topics": list(self.topics),
            "signals": [s.code for s in self.signals],
        }


@dataclass
class Outcome:
    """What the engine did with one inbound message."""

    replies: list[Reply] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    duplicate: bool = False
    person_id: int | None = None
    conversation_id: int | None = None
    triage: TriageResult | None = None
