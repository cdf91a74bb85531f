"""The menu, help and the list of self-help topics (for the person's audience, a few at a time)."""

from __future__ import annotations

from bot.domain import Audience
from bot.flows.base import Turn
from bot.flows.selfhelp import open_button
from bot.payloads import ChooseLanguage, Forget, MoreTopics, Talk, Topics
from bot.texts import Article

MENU_TOPICS = (
    "loneliness",
    "exam_stress",
    "bullying",
    "family_conflict",
    "anxiety",
    "low_mood",
    "cyberbullying",
    "puberty",
    "grief",
    "parenting",
    "legal_help",
    "social_support",
    "school",
    "health",
)
PAGE = 6  # topics on the first screen; the rest behind "more"


async def show(turn: Turn) -> None:
    turn.say_key(
        "menu.text",
        [turn.button("btn.talk", Talk()), turn.button("btn.topics", Topics())],
        [turn.button("btn.language", ChooseLanguage()), turn.button("btn.forget", Forget())],
        [turn.human_button()],
    )


async def help_(turn: Turn) -> None:
    turn.say(turn.t("help.text"), [turn.button("btn.topics", Topics())], [turn.human_button()])


def articles_for(turn: Turn) -> list[Article]:
    """The menu's articles that have a version for this person: no parent-only article for a teen."""
    wanted = "parent" if turn.audience == Audience.ADULT else "teen"
    found: list[Article] = []
    for topic in MENU_TOPICS:
        article = turn.content.article_for_topics((topic,))
        if article is not None and article not in found and wanted in article.versions:
            found.append(article)
    return found


async def topics(turn: Turn, more: bool = False) -> None:
    articles = articles_for(turn)
    shown = articles[PAGE:] if more else articles[:PAGE]
    buttons = [open_button(turn, a) for a in shown]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if not more and len(articles) > PAGE:
        rows.append([turn.button("btn.more_topics", MoreTopics())])
    turn.say_key("topics.text", *rows, [turn.human_button()])
