"""What a flow gets and gives, in the shape of a Rasa action: a narrow context in, replies and events out.

A flow is an ``async def flow(turn: Turn) -> None``. It reads the person's message, their profile,
the conversation's typed state and the case; it answers with ``turn.say`` and changes the case only
through ``bot.lifecycle`` (``turn.apply`` records the events a transition returns). It never sees the
database, a channel or the engine: the engine loads what the turn needs and stores what it made.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from bot import lifecycle
from bot.domain import Audience, Button, CaseEvent, Inbound, Reply, TriageResult
from bot.payloads import Human, Menu, Payload
from bot.storage.models import Case
from bot.texts import Content

MAX_OFFERED = 80


@dataclass
class Profile:
    """What the person chose to tell (or the bot inferred): kept across conversations."""

    language: str | None = None
    language_chosen: bool = False
    audience: str = Audience.UNKNOWN.value
    gender: str | None = None
    asked_profile: bool = False


@dataclass
class ConversationState:
    """The conversation's memory between turns (stored as JSON on the conversation)."""

    offered: list[str] = field(default_factory=list)  # button payloads offered: valid to press
    crisis_text_at: float | None = None  # when the full safety text was last sent
    safe_answers: int = 0  # "I'm safe" answers to the safety question (never closes it)
    unsafe_answers: int = 0
    hold_at: float | None = None  # last "you are in the queue" answer
    article: str | None = None  # the self-help article being read, and its version
    article_version: str | None = None
    counsellor_offered: str | None = None  # the risk level the counsellor was last offered at
    articles_offered: list[str] = field(default_factory=list)  # not offered again in this conversation
    acks: list[str] = field(default_factory=list)  # acknowledgements said: a repeat is shorter
    helped: int = 0  # answers with help given (the "who is writing" question comes after the first)
    forget_pending: bool = False  # asked "/forget?" and waiting for the answer

    @classmethod
    def load(cls, raw: dict[str, Any] | None) -> ConversationState:
        """A copy: the stored JSON must not change in place, or the ORM would see no change."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: copy.deepcopy(v) for k, v in (raw or {}).items() if k in names})

    def dump(self) -> dict[str, Any]:
        data = asdict(self)
        data["offered"] = data["offered"][-MAX_OFFERED:]
        return {k: v for k, v in data.items() if v not in (None, False, 0, [])}


@dataclass(frozen=True)
class QueueInfo:
    """Where a waiting case stands: its place in the queue and a rough wait, from recent claims."""

    position: int  # 1 = next
    minutes: int | None  # None: no recent claims to estimate from


@dataclass
class Turn:
    content: Content
    profile: Profile
    state: ConversationState
    case: Case  # changed only through bot.lifecycle
    inbound: Inbound
    text: str
    now: datetime
    first: bool  # the first message of this conversation
    triage_text: Callable[[str], TriageResult]
    queue_info: Callable[[], Awaitable[QueueInfo | None]]
    replies: list[Reply] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    triage: TriageResult | None = None
    relay_to_staff: bool = False  # the person's words go on to the counsellors
    trigger: str = ""  # the words that raised the risk (quoted in the staff alert)
    forget: bool = False  # /forget confirmed: the engine deletes the person after this turn
    ratings: list[tuple[str, bool]] = field(default_factory=list)  # (article, helpful) to store

    # ---- language ------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.profile.language or "az"

    @property
    def audience(self) -> Audience:
        return Audience(self.profile.audience or Audience.UNKNOWN.value)

    def t(self, key: str, **kw: Any) -> str:
        return self.content.t(key, self.lang, self.audience, **kw)

    def button(self, key: str, payload: Payload, **kw: Any) -> Button:
        return Button(self.t(key, **kw), payload.encode())

    def offered(self, data: str) -> bool:
        """Was this button payload offered in this conversation (and still valid)?"""
        return data in self.state.offered

    # ---- output --------------------------------------------------------------------------------
    def say(self, text: str, *rows: list[Button] | tuple[Button, ...]) -> None:
        self.replies.append(Reply(text=text, buttons=tuple(tuple(r) for r in rows if r)))

    def say_key(self, key: str, *rows: list[Button] | tuple[Button, ...], **kw: Any) -> None:
        self.say(self.t(key, **kw), *rows)

    def apply(self, change: lifecycle.Change) -> lifecycle.Change:
        """Record what a lifecycle transition caused (its events go to the staff side)."""
        self.events.extend(change.events)
        return change

    # ---- common buttons ------------------------------------------------------------------------
    def human_button(self) -> Button:
        return self.button("btn.talk_to_counsellor", Human())

    def menu_button(self) -> Button:
        return self.button("btn.menu", Menu())
