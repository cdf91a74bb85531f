"""What every flow gets: one turn of a conversation, inside one database transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import case_event
from bot.domain import Audience, Button, Inbound, Outcome, Reply
from bot.storage.models import Case, Conversation, Person

if TYPE_CHECKING:
    from bot.engine import Engine


@dataclass
class Turn:
    engine: Engine
    session: AsyncSession
    person: Person
    conversation: Conversation
    case: Case
    inbound: Inbound
    now: datetime
    outcome: Outcome = field(default_factory=Outcome)
    relay_to_staff: bool = False  # the person's message goes on to the counsellor
    forgotten: bool = False  # /forget confirmed: the engine deletes the person after this turn

    # ---- language ------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.person.language or "az"

    @property
    def audience(self) -> Audience:
        return Audience(self.person.audience or "unknown")

    def t(self, key: str, **kw: Any) -> str:
        return self.engine.content.t(key, self.lang, self.audience, **kw)

    def button(self, key: str, data: str, **kw: Any) -> Button:
        return Button(self.t(key, **kw), data)

    # ---- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return self.conversation.state or {}

    def set_state(self, **changes: Any) -> None:
        state = dict(self.conversation.state or {})
        for key, value in changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        self.conversation.state = state  # reassign so SQLAlchemy sees the change

    def offered(self, data: str) -> bool:
        """Was this button payload offered in this conversation (and still valid)?"""
        return data in (self.state.get("offered") or [])

    # ---- output --------------------------------------------------------------------------------
    def say(self, text: str, *rows: list[Button] | tuple[Button, ...]) -> None:
        self.outcome.replies.append(Reply(text=text, buttons=tuple(tuple(r) for r in rows if r)))

    def say_key(self, key: str, *rows: list[Button] | tuple[Button, ...], **kw: Any) -> None:
        self.say(self.t(key, **kw), *rows)

    def emit(self, kind: str) -> None:
        self.outcome.events.append(case_event(self.case, kind))

    # ---- common buttons ------------------------------------------------------------------------
    def human_button(self) -> Button:
        return self.button("btn.talk_to_counsellor", "human")

    def menu_button(self) -> Button:
        return self.button("btn.menu", "menu")
