"""Self-help articles, read in at most two screens, with a counsellor always one tap away."""

from __future__ import annotations

from bot.domain import Button
from bot.flows.base import Turn
from bot.payloads import ArticleFeedback, ArticleStep, Topics
from bot.texts import Article

ONE_SCREEN = 1400  # an article this short is one message; a longer one is two


def open_button(turn: Turn, article: Article) -> Button:
    title = article.title.get(turn.lang) or article.title["az"]
    return turn.button("btn.article", ArticleStep(article.id, 0), title=title)


def pages(steps: list[str]) -> list[str]:
    """The article's messages as one or two screens (split where the halves are closest)."""
    if sum(len(s) for s in steps) <= ONE_SCREEN or len(steps) < 2:
        return ["\n\n".join(steps)]
    total = sum(len(s) for s in steps)
    best, running = 1, 0
    for i, step in enumerate(steps[:-1], 1):
        running += len(step)
        if abs(total / 2 - running) < abs(total / 2 - sum(len(s) for s in steps[:best])):
            best = i
    return ["\n\n".join(steps[:best]), "\n\n".join(steps[best:])]


async def step(turn: Turn, payload: ArticleStep) -> None:
    article = turn.content.articles.get(payload.article)
    if article is None:
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])
        return
    state = turn.state
    version = state.article_version if state.article == article.id else None
    if version not in article.versions:
        version = article.version_for(turn.audience)
    screens = pages(article.steps(version, turn.lang))
    index = min(payload.step, len(screens) - 1)
    state.article, state.article_version = article.id, version
    if article.id not in state.articles_offered:
        state.articles_offered.append(article.id)
    text = screens[index]
    if len(screens) > 1:
        text = turn.t("article.progress", n=index + 1, total=len(screens), text=text)
    if index + 1 < len(screens):
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
        turn.say_key("article.sorry", [turn.button("btn.topics", Topics())], [turn.human_button()])
