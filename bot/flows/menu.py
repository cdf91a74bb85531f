"""The menu, help and the list of self-help topics."""

from __future__ import annotations

from bot.flows.base import Turn

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
        [turn.button("btn.talk", "talk"), turn.button("btn.topics", "topics")],
        [turn.human_button()],
        [turn.button("btn.language", "lang"), turn.button("btn.forget", "forget")],
    )


async def help_(turn: Turn) -> None:
    turn.say_key("help.text")
    await show(turn)


async def topics(turn: Turn) -> None:
    content = turn.engine.content
    buttons = []
    for topic in MENU_TOPICS:
        article = content.article_for_topics((topic,))
        if article is not None and all(b.data != f"art:{article.id}:0" for b in buttons):
            title = article.title.get(turn.lang) or article.title["az"]
            buttons.append(turn.button("btn.article", f"art:{article.id}:0", title=title))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    turn.say_key("topics.text", *rows, [turn.human_button()])
