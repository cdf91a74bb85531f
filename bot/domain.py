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
    """Lifecycle of a case: the bot handles it, then a counsellor may (see bot/lifecycle.py)."""

    BOT = "bot"
    QUEUED = "queued"
    CLAIMED = "claimed"
    CLOSED = "closed"


class EventKind(StrEnum):
    """What happened to a case, as the staff side is told."""

    OPENED = "case_opened"  # entered the counsellor queue
    UPDATED = "case_updated"  # risk raised, released back to the queue, the person left ...
    CLAIMED = "case_claimed"
    CLOSED = "case_closed"


class CloseOutcome(StrEnum):
    """How a counsellor closed a case (what the helpline reports). The last two are set by the bot."""

    SAFE_NOW = "safe_now"  # talked, the person is safe now
    EMERGENCY = "emergency"  # referred to emergency services (112)
    POLICE = "police"  # referred to the police
    SOCIAL_SERVICES = "social_services"  # referred to social services / guardianship
    OMBUDSMAN = "ombudsman"  # referred to the Ombudsman (children's rights)
    FAMILY_MEETING = "family_meeting"  # a meeting with the family is planned
    REHABILITATION = "rehabilitation"  # social-psychological rehabilitation started
    ADVICE = "advice"  # advice or information given, nothing more needed
    UNREACHABLE = "unreachable"  # the person did not answer
    FALSE_ALARM = "false_alarm"  # no risk after all
    IDLE = "idle"  # the bot's own: a conversation that went quiet
    FORGOTTEN = "forgotten"  # the bot's own: the person used /forget


# Queue priority: higher is more urgent. Every crisis (urgent or imminent risk) gets the highest
# priority; within it, the queue puts imminent before urgent, then the longest waiting first.
PRIORITY_BY_RISK = {Risk.NONE: 1, Risk.ELEVATED: 2, Risk.URGENT: 3, Risk.IMMINENT: 3}
PRIORITY_HIGHEST = PRIORITY_BY_RISK[Risk.IMMINENT]

LANGUAGES = ("az", "ru", "en")
DEFAULT_LANGUAGE = "az"


@dataclass(frozen=True)
class StaffMember:
    """A counsellor as the system knows them (staff are not anonymous to the system, only to people)."""

    id: str  # the staff channel's user id, e.g. "telegram:501" or "console:aynur"
    name: str  # shown to colleagues, never to the person


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
    # The person's earlier words as the channel knows them, oldest first, when the engine may not have
    # seen them all (a Rasa assistant answers some messages itself). Triage reads the message with
    # these instead of the conversation's stored messages.
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseEvent:
    """A change of a case that the staff side must hear about (``bot/lifecycle.py`` makes them)."""

    kind: EventKind
    case_id: int
    priority: int
    risk: Risk
    category: Category | None
    topics: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    reason: str = ""  # opened: risk | request; updated: risk_raised | released | person_left ...
    previous_risk: Risk | None = None  # for a rise of risk: the level before
    outcome: CloseOutcome | None = None  # for a close

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "event": self.kind.value,
            "case": self.case_id,
            "priority": self.priority,
            "risk": self.risk.value,
            "category": self.category.value if self.category else None,
            "topics": list(self.topics),
            "signals": [s.code for s in self.signals],
        }
        if self.reason:
            data["reason"] = self.reason
        if self.previous_risk is not None:
            data["previous_risk"] = self.previous_risk.value
        if self.outcome is not None:
            data["outcome"] = self.outcome.value
        return data


@dataclass
class Outcome:
    """What the engine did with one inbound message."""

    replies: list[Reply] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    duplicate: bool = False
    person_id: int | None = None
    conversation_id: int | None = None
    triage: TriageResult | None = None
