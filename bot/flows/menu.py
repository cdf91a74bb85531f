"""The menu, help and the list of self-help topics."""

from __future__ import annotations

from bot.flows.base import Turn
from bot.flows.selfhelp import open_button
from bot.payloads import ChooseLanguage, Forget, Talk, Topics

MENU_TOPICS = (
    "loneliness",
    "exam_stress",
    "bullying",
    "cyberbullying",
    "anxiety",
    "low_mood",
    "family_conflict",
    "puberty",
    "grief",
    "parenting",
    "legal_help",
    "social_support",
)


async def show(turn: Turn) -> None:
    turn.say_key(
        "menu.text",
        [turn.button("btn.talk", Talk()), turn.button("btn.topics", Topics())],
        [turn.human_button()],
        [turn.button("btn.language", ChooseLanguage()), turn.button("btn.forget", Forget())],
    )


async def help_(turn: Turn) -> None:
    turn.say_key("help.text")
    await show(turn)


async def topics(turn: Turn) -> None:
    buttons = []
    seen: set[str] = set()
    for topic in MENU_TOPICS:
        article = turn.content.article_for_topics((topic,))
        if article is not None and article.id not in seen:
            seen.add(article.id)
            buttons.append(open_button(turn, article))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    turn.say_key("topics.text", *rows, [turn.human_button()])
