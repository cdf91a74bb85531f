"""Welcome, language choice, and the optional, skippable "who is writing" (asked once, after help)."""

from __future__ import annotations

from bot import lifecycle
from bot.domain import LANGUAGES, Audience, Button
from bot.flows import relay
from bot.flows.base import Turn
from bot.payloads import Gender, SetLanguage, Topics, Who


def language_row(turn: Turn) -> list[Button]:
    return [turn.button(f"lang.{code}", SetLanguage(code)) for code in LANGUAGES]


async def start(turn: Turn, ask_language: bool = True) -> None:
    """/start or a first greeting: who I am, what is kept, the numbers, and "what is happening?".

    The language is taken from what the person wrote; the language buttons come only when it cannot
    be told (/start, a message without words)."""
    rows = [[turn.button("btn.topics", Topics()), turn.human_button()]]
    if ask_language and not turn.profile.language_chosen:
        rows.insert(0, language_row(turn))
    turn.say_key("welcome.intro", *rows)
    if lifecycle.is_open(turn.case):
        await relay.hold(turn)


async def ask_language(turn: Turn) -> None:
    turn.say_key("lang.ask", language_row(turn))


async def set_language(turn: Turn, code: str) -> None:
    turn.profile.language = code
    turn.profile.language_chosen = True
    if lifecycle.is_open(turn.case):
        turn.say_key("lang.set")
        await relay.hold(turn)
        return
    turn.say(
        turn.t("lang.set") + " " + turn.t("prompt.tell_me"),
        [turn.button("btn.topics", Topics()), turn.human_button()],
    )


def ask_who(turn: Turn) -> None:
    """Asked once, after the person got help, and skippable; the counsellor stays one tap away."""
    turn.profile.asked_profile = True
    turn.say_key(
        "who.ask",
        [turn.button("who.child", Who("child")), turn.button("who.adult", Who("adult"))],
        [turn.button("btn.skip", Who("skip"))],
        [turn.human_button()],
    )


async def set_who(turn: Turn, value: str) -> None:
    if value in (Audience.CHILD.value, Audience.ADULT.value):
        turn.profile.audience = value
        if turn.profile.gender is None:
            turn.say_key(
                "gender.ask",
                [turn.button("gender.female", Gender("female")), turn.button("gender.male", Gender("male"))],
                [turn.button("btn.skip", Gender("skip"))],
                [turn.human_button()],
            )
            return
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])


async def set_gender(turn: Turn, value: str) -> None:
    if value in ("female", "male"):
        turn.profile.gender = value
    turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])
