"""Welcome, language choice, and the optional, skippable "who is writing"."""

from __future__ import annotations

from bot import lifecycle
from bot.domain import LANGUAGES, Audience, Button
from bot.flows import relay
from bot.flows.base import Turn
from bot.payloads import Gender, SetLanguage, Topics, Who


def language_row(turn: Turn) -> list[Button]:
    return [turn.button(f"lang.{code}", SetLanguage(code)) for code in LANGUAGES]


async def start(turn: Turn) -> None:
    """/start or a first greeting: who we are, what is kept, the numbers, and the language choice."""
    turn.say_key("welcome.intro", language_row(turn), [turn.human_button()])
    if lifecycle.is_open(turn.case):
        await relay.hold(turn)


async def ask_language(turn: Turn) -> None:
    turn.say_key("lang.ask", language_row(turn))


async def set_language(turn: Turn, code: str) -> None:
    turn.profile.language = code
    turn.profile.language_chosen = True
    turn.say_key("lang.set")
    if lifecycle.is_open(turn.case):
        await relay.hold(turn)
        return
    if not turn.profile.asked_profile:
        ask_who(turn)
    else:
        turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])


def ask_who(turn: Turn) -> None:
    turn.profile.asked_profile = True
    turn.say_key(
        "who.ask",
        [turn.button("who.child", Who("child"))],
        [turn.button("who.adult", Who("adult"))],
        [turn.button("btn.skip", Who("skip"))],
    )


async def set_who(turn: Turn, value: str) -> None:
    if value in (Audience.CHILD.value, Audience.ADULT.value):
        turn.profile.audience = value
        turn.say_key(
            "gender.ask",
            [turn.button("gender.female", Gender("female")), turn.button("gender.male", Gender("male"))],
            [turn.button("btn.skip", Gender("skip"))],
        )
        return
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])


async def set_gender(turn: Turn, value: str) -> None:
    if value in ("female", "male"):
        turn.profile.gender = value
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])
