"""Self-help articles, one chat-sized message at a time, with a counsellor always one tap away."""

from __future__ import annotations

from bot.domain import Button
from bot.flows.base import Turn
from bot.texts import Article


def open_button(turn: Turn, article: Article) -> Button:
    title = article.title.get(turn.lang) or article.title["az"]
    return turn.button("btn.article", f"art:{article.id}:0", title=title)


async def step(turn: Turn, arg: str) -> None:
    article_id, _, raw_index = arg.partition(":")
    article = turn.engine.content.articles.get(article_id)
    if article is None or not raw_index.isdigit():
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])
        return
    version = turn.state.get("article_version") if turn.state.get("article") == article_id else None
    if version not in article.versions:
        version = article.version_for(turn.audience)
    steps = article.steps(version, turn.lang)
    index = min(int(raw_index), len(steps) - 1)
    turn.set_state(article=article_id, article_version=version, article_step=index)
    text = turn.t("article.progress", n=index + 1, total=len(steps), text=steps[index])
    if index + 1 < len(steps):
        turn.say(text, [turn.button("btn.next", f"art:{article_id}:{index + 1}")], [turn.human_button()])
    else:
        turn.say(
            text,
            [
                turn.button("btn.helped", f"artfb:{article_id}:yes"),
                turn.button("btn.not_helped", f"artfb:{article_id}:no"),
            ],
            [turn.human_button()],
        )


async def feedback(turn: Turn, arg: str) -> None:
    article_id, _, verdict = arg.partition(":")
    ratings = dict(turn.state.get("article_feedback") or {})
    ratings[article_id] = verdict
    turn.set_state(article_feedback=ratings)
    if verdict == "yes":
        turn.say_key("article.glad", [turn.button("btn.topics", "topics"), turn.human_button()])
    else:
        turn.say_key("article.sorry", [turn.human_button()], [turn.button("btn.topics", "topics")])
