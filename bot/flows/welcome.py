"""Welcome, language choice, and the optional, skippable "who is writing"."""

from __future__ import annotations

from bot.cases import OPEN_STATUSES
from bot.domain import LANGUAGES, Audience, Button
from bot.flows.base import Turn


def language_row(turn: Turn) -> list[Button]:
    return [turn.button(f"lang.{code}", f"lang:{code}") for code in LANGUAGES]


async def start(turn: Turn) -> None:
    """/start or a first greeting: who we are, what is kept, the numbers, and the language choice."""
    turn.say_key("welcome.intro", language_row(turn), [turn.human_button()])
    if turn.case.status in OPEN_STATUSES:
        turn.say_key("handoff.already_queued")


async def ask_language(turn: Turn) -> None:
    turn.say_key("lang.ask", language_row(turn))


async def set_language(turn: Turn, code: str) -> None:
    if code not in LANGUAGES:
        turn.say_key("error.unknown_button", [turn.menu_button()])
        return
    turn.person.language = code
    turn.person.language_chosen = True
    turn.say_key("lang.set")
    if turn.case.status in OPEN_STATUSES:
        turn.say_key("handoff.already_queued")
        return
    if not turn.person.asked_profile:
        ask_who(turn)
    else:
        turn.say_key("prompt.tell_me", [turn.button("btn.topics", "topics"), turn.human_button()])


def ask_who(turn: Turn) -> None:
    turn.person.asked_profile = True
    turn.say_key(
        "who.ask",
        [turn.button("who.child", "who:child")],
        [turn.button("who.adult", "who:adult")],
        [turn.button("btn.skip", "who:skip")],
    )


async def set_who(turn: Turn, value: str) -> None:
    if value in (Audience.CHILD.value, Audience.ADULT.value):
        turn.person.audience = value
        turn.say_key(
            "gender.ask",
            [turn.button("gender.female", "gender:female"), turn.button("gender.male", "gender:male")],
            [turn.button("btn.skip", "gender:skip")],
        )
        return
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", "topics"), turn.human_button()])


async def set_gender(turn: Turn, value: str) -> None:
    if value in ("female", "male"):
        turn.person.gender = value
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", "topics"), turn.human_button()])
