"""Self-help articles, one chat-sized message at a time, with a counsellor always one tap away."""

from __future__ import annotations

from bot.domain import Button
from bot.flows.base import Turn
from bot.payloads import ArticleFeedback, ArticleStep, Topics
from bot.texts import Article


def open_button(turn: Turn, article: Article) -> Button:
    title = article.title.get(turn.lang) or article.title["az"]
    return turn.button("btn.article", ArticleStep(article.id, 0), title=title)


async def step(turn: Turn, payload: ArticleStep) -> None:
    article = turn.content.articles.get(payload.article)
    if article is None:
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])
        return
    state = turn.state
    version = state.article_version if state.article == article.id else None
    if version not in article.versions:
        version = article.version_for(turn.audience)
    steps = article.steps(version, turn.lang)
    index = min(payload.step, len(steps) - 1)
    state.article, state.article_version = article.id, version
    text = turn.t("article.progress", n=index + 1, total=len(steps), text=steps[index])
    if index + 1 < len(steps):
        turn.say(text, [turn.button("btn.next", ArticleStep(article.id, index + 1))], [turn.human_button()])
    else:
        turn.say(
            text,
            [
                turn.button("btn.helped", ArticleFeedback(article.id, True)),
                turn.button("btn.not_helped", ArticleFeedback(article.id, False)),
            ],
            [turn.human_button()],
        )


async def feedback(turn: Turn, payload: ArticleFeedback) -> None:
    """The rating is stored by the engine (``Turn.ratings``); here the person gets the next step."""
    turn.ratings.append((payload.article, payload.helpful))
    if payload.helpful:
        turn.say_key("article.glad", [turn.button("btn.topics", Topics()), turn.human_button()])
    else:
        turn.say_key("article.sorry", [turn.human_button()], [turn.button("btn.topics", Topics())])
