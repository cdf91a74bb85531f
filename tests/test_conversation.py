"""Conversation quality through ``chat --jsonl``: few messages and taps, a bot that listens, the
helpline's own knowledge, "sən" for teenagers, and the rough edges of the terminal."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.terminal import run_chat, run_jsonl
from bot.storage.models import Case, Conversation, Person


async def jsonl(app: App, *lines: dict) -> list[dict]:
    stdin = io.StringIO("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    stdout = io.StringIO()
    assert await run_jsonl(app, stdin, stdout) == 0
    return [json.loads(x) for x in stdout.getvalue().splitlines()]


def replies(out: list[dict], user: str | None = None) -> list[dict]:
    return [o for o in out if "to" in o and (user is None or o["to"] == user)]


def data(message: dict) -> list[str]:
    return [b["data"] for b in message["buttons"]]


FIRST_MESSAGES = [
    "Salam",
    "😭😭😭",
    "kömək edin",
    "məktəbdə məni ələ salırlar, çox pis oluram",
    "oğlum 14 yaşındadır, telefondan ayrılmır",
    "stressed about my exams next week",
    "мне очень одиноко",
    "vebinara necə qeydiyyatdan keçim?",
    "insan var?",
]


@pytest.mark.parametrize("first", FIRST_MESSAGES)
async def test_a_first_turn_is_at_most_two_messages_with_the_counsellor_on_the_last(
    sqlite_app: App, first: str
) -> None:
    out = replies(await jsonl(sqlite_app, {"user": "new", "text": first}))
    assert 1 <= len(out) <= 2, [o["text"][:60] for o in out]
    assert (
        "human" in data(out[-1]) or "handoff" in out[-1]["text"] or "məsləhətçini çağırdım" in out[-1]["text"]
    )
    joined = " ".join(o["text"] for o in out)
    assert "116111" in joined and ("bot" in joined.lower() or "бот" in joined.lower())  # a first contact


@pytest.mark.parametrize("first", ["😭😭😭", "kömək edin", "помогите", "help me"])
async def test_distress_without_words_or_a_plea_gets_a_gentle_question_not_the_welcome(
    sqlite_app: App, first: str
) -> None:
    content = sqlite_app.content
    [reply] = replies(await jsonl(sqlite_app, {"user": "p", "text": first}))
    lang = {"помогите": "ru", "help me": "en"}.get(first, "az")
    assert reply["text"].endswith(content.t("prompt.gentle", lang, "unknown"))
    assert content.t("welcome.intro", lang, "unknown") != reply["text"]
    assert data(reply) == ["human"]


@pytest.mark.parametrize(
    "ask",
    [
        "insan var?",
        "canli adam",
        "zeng ede bilerem?",
        "real adamla danışmaq olar?",
        "можно с живым человеком",
        "Canlı insanla danışmaq istəyirəm",
        "is there a real person?",
    ],
)
async def test_every_way_of_asking_for_a_person_leads_to_the_handoff(sqlite_app: App, ask: str) -> None:
    out = await jsonl(sqlite_app, {"user": "h", "text": ask})
    assert [o["event"] for o in out if "event" in o] == ["case_opened"]


async def test_the_counsellor_offer_and_an_article_are_not_repeated(sqlite_app: App) -> None:
    content = sqlite_app.content
    out = await jsonl(
        sqlite_app,
        {"user": "r", "text": "çox tək hiss edirəm, heç kimim yoxdur"},
        {"user": "r", "text": "hər gün tək otururam"},
        {"user": "r", "text": "heç kim yazmır mənə"},
    )
    texts = [o["text"] for o in replies(out, "r")]
    offer = content.t("elevated.offer_person", "az", "unknown")
    assert sum(offer in t for t in texts) <= 1
    articles = [d for o in replies(out, "r") for d in data(o) if d.startswith("art:")]
    assert len(articles) == len(set(articles))


async def test_the_most_specific_topic_decides_the_article(sqlite_app: App) -> None:
    out = replies(await jsonl(sqlite_app, {"user": "x", "text": "stressed about my exams next week"}))
    assert "art:exam_stress:0" in data(out[0])
    assert sqlite_app.content.t("ack.topic.exam_stress", "en", "unknown") in out[0]["text"]


async def test_a_teenager_is_addressed_with_sen_as_soon_as_it_shows_also_in_a_crisis(sqlite_app: App) -> None:
    content = sqlite_app.content
    out = replies(await jsonl(sqlite_app, {"user": "t", "text": "14 yaşım var, özümü öldürmək istəyirəm"}))
    assert out[0]["text"] == content.t("crisis.suicide", "az", "child")
    out = replies(await jsonl(sqlite_app, {"user": "t2", "text": "15 yaşım var, çox tək hiss edirəm"}))
    assert out[0]["text"] and not re.search(r"\b[Ss]iz(ə|i|in|inlə)?\b", out[0]["text"])  # no "Siz"
    async with sqlite_app.sessions() as session:
        people = {p.audience for p in await session.scalars(select(Person))}
    assert people == {"child"}


async def test_who_is_writing_is_taken_from_the_words(sqlite_app: App) -> None:
    await jsonl(
        sqlite_app,
        {"user": "mum", "text": "я мама, мой сын перестал разговаривать со мной"},
        {"user": "dad", "text": "oğlum məktəbə getmək istəmir"},
    )
    async with sqlite_app.sessions() as session:
        rows = (await session.execute(Conversation.__table__.select())).all()
    by_lang = {r.language: (r.audience, r.gender) for r in rows}
    assert by_lang["ru"] == ("adult", "female") and by_lang["az"] == ("adult", None)


@pytest.mark.parametrize(
    ("question", "topic", "lang"),
    [
        ("vebinara necə qeydiyyatdan keçim?", "webinars", "az"),
        ("İntihara son deyək vebinarı nə vaxtdır?", "webinars", "az"),
        ("is this the same as a suicide hotline?", "hotline", "en"),
        ("what are your opening hours?", "hours", "en"),
        ("can I call instead?", "call", "en"),
        ("кто вы?", "about", "ru"),
        ("это анонимно?", "privacy", "ru"),
    ],
)
async def test_questions_about_the_helpline_get_its_own_facts_and_no_risk(
    sqlite_app: App, question: str, topic: str, lang: str
) -> None:
    content = sqlite_app.content
    out = await jsonl(sqlite_app, {"user": "q", "text": question})
    [reply] = replies(out)
    expected = next(t for t in content.helpline if t.id == topic).answer[lang]
    assert expected in reply["text"] and data(reply) == ["human"]
    assert not [o for o in out if "event" in o]
    async with sqlite_app.sessions() as session:
        assert {c.risk for c in await session.scalars(select(Case))} <= {"none", "elevated"}


async def test_the_topics_menu_fits_the_audience_and_an_article_is_two_taps(sqlite_app: App) -> None:
    out = replies(
        await jsonl(sqlite_app, {"user": "m", "text": "15 yaşım var"}, {"user": "m", "button": "topics"})
    )
    menu = out[-1]
    shown = [d for d in data(menu) if d.startswith("art:")]
    assert 1 <= len(shown) <= 6 and "more" in data(menu) and "art:parenting:0" not in shown
    more = replies(await jsonl(sqlite_app, {"user": "m", "button": "more"}))[-1]
    assert "art:parenting:0" not in data(more) and set(data(more)) & {"art:health:0", "art:school:0"}
    taps = 0
    step = shown[0]
    while True:
        taps += 1
        page = replies(await jsonl(sqlite_app, {"user": "m", "button": step}))[-1]
        nexts = [d for d in data(page) if d.startswith("art:")]
        if not nexts:
            break
        step = nexts[0]
    assert taps <= 2 and any(d.startswith("artfb:") for d in data(page))


async def test_a_parent_menu_offers_the_parenting_article(sqlite_app: App) -> None:
    out = replies(
        await jsonl(
            sqlite_app, {"user": "pa", "text": "qızım çox əsəbidir"}, {"user": "pa", "button": "topics"}
        )
    )
    menu_and_more = data(out[-1]) + data(
        replies(await jsonl(sqlite_app, {"user": "pa", "button": "more"}))[-1]
    )
    assert "art:parenting:0" in menu_and_more


async def test_jsonl_user_may_be_a_number_but_text_must_be_a_string(sqlite_app: App) -> None:
    out = await jsonl(sqlite_app, {"user": 123, "text": "Salam"}, {"user": "u", "text": 123})
    assert replies(out)[0]["to"] == "123"
    assert [o for o in out if "error" in o] == [{"error": '"text" must be a string', "line": 2}]


async def test_the_terminal_numbers_only_the_latest_messages_buttons(sqlite_app: App) -> None:
    """'2' must press the second button of the message just shown, never one of an older message."""
    script = io.StringIO("Salam\n1\n2\n/quit\n")
    out = io.StringIO()
    assert await run_chat(sqlite_app, "term", stdin=script, stdout=out) == 0
    text = out.getvalue()
    # Salam -> [1] topics [2] human; "1" opens the topics menu; "2" presses the menu's second article
    assert text.count("[1]") >= 2
    async with sqlite_app.sessions() as session:
        cases = list(await session.scalars(select(Case)))
    assert all(c.status == "bot" for c in cases)  # "2" did not reach the old "talk to a counsellor"
