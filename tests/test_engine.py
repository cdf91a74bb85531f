"""The engine at the service layer, on SQLite and PostgreSQL, with the real triager and content."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.domain import PRIORITY_HIGHEST, CloseOutcome, Inbound, Outcome, StaffMember
from bot.jobs import housekeeping
from bot.lifecycle import Refusal
from bot.storage.models import Case, Conversation, InboxEntry, Message, OutboxItem, Person

AYNUR = StaffMember(id="s-1", name="Aynur")
LEYLA = StaffMember(id="s-2", name="Leyla")


async def say(
    app: App, text: str | None = None, user: str = "u1", button: str | None = None, **kw
) -> Outcome:
    return await app.engine.handle(Inbound(channel="test", user_id=user, text=text, button=button, **kw))


def texts(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


def payloads(outcome: Outcome) -> list[str]:
    return [b.data for r in outcome.replies for row in r.buttons for b in row]


async def count(app: App, model, *where) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def the_case(app: App, outcome: Outcome) -> Case:
    async with app.sessions() as s:
        return await s.scalar(select(Case).where(Case.conversation_id == outcome.conversation_id))


async def test_greeting_gets_welcome_with_numbers_and_no_language_question(app: App) -> None:
    out = await say(app, "Salam")
    text = texts(out)
    assert len(out.replies) == 1 and "116111" in text and "112" in text
    assert "bot" in text.lower()  # says plainly it is a bot
    assert set(payloads(out)) == {"topics", "human"}  # the language is taken from what was written
    assert out.events == []
    start = await say(app, "/start", user="other")  # nothing written to tell the language by
    assert {"lang:az", "lang:ru", "lang:en", "human"} <= set(payloads(start))


async def test_language_choice_is_kept_and_help_comes_before_any_question(app: App) -> None:
    await say(app, "/start")
    out = await say(app, button="lang:ru")
    assert "по-русски" in texts(out) and "human" in payloads(out)
    out = await say(app, "мне очень одиноко, ни с кем не общаюсь")
    assert any(ch in texts(out) for ch in "абвгд")  # answered in Russian
    assert len(out.replies) == 1 and "who:skip" not in payloads(out)  # help first, no question yet
    later = await say(app, "и от этого мне очень грустно")
    assert len(later.replies) == 2 and "who:skip" in payloads(later)  # asked once, later, skippable
    assert later.replies[-1].buttons[-1][0].data == "human"  # the counsellor on the last message
    skipped = await say(app, button="who:skip")
    assert "human" in payloads(skipped)


async def test_asking_for_a_person_opens_a_case(app: App) -> None:
    await say(app, "Salam")
    out = await say(app, button="human")
    assert [e.kind for e in out.events] == ["case_opened"]
    case = await the_case(app, out)
    assert case.status == "queued" and case.waiting_since is not None
    again = await say(app, button="human")
    assert again.events == []  # asking twice does not open a second case
    assert await count(app, Case, Case.status == "queued") == 1


async def test_text_request_for_operator_opens_a_case(app: App) -> None:
    out = await say(app, "operatorla danışmaq istəyirəm")
    assert [e.kind for e in out.events] == ["case_opened"]


async def test_suicidal_message_gets_safety_message_and_highest_priority_case(app: App) -> None:
    out = await say(app, "Özümü öldürmək istəyirəm")
    text = texts(out)
    assert "112" in text and "116111" in text and "bot" in text.lower()
    assert {"safe:yes", "safe:no"} <= set(payloads(out))
    assert [e.kind for e in out.events] == ["case_opened"]
    event = out.events[0]
    assert event.priority == PRIORITY_HIGHEST
    assert event.risk.escalates and event.signals  # explainable: signals attached
    case = await the_case(app, out)
    assert case.priority == PRIORITY_HIGHEST and case.status == "queued"


async def test_a_single_im_fine_never_closes_the_risk_check(app: App) -> None:
    out = await say(app, "yaşamaq istəmirəm daha")
    assert out.events and out.events[0].kind == "case_opened"
    fine = await say(app, "yaxşıyam")
    assert fine.events == []
    fine = await say(app, button="safe:yes")
    case = await the_case(app, fine)
    assert case.status == "queued"  # stays in the queue until a counsellor closes it
    unsafe = await say(app, button="safe:no")
    assert "112" in texts(unsafe)
    case = await the_case(app, unsafe)
    assert case.risk == "imminent" and case.status == "queued"


async def test_risk_accumulates_across_the_conversation(app: App) -> None:
    first = await say(app, "ölmək istəyirəm")
    assert first.triage is not None and first.triage.risk.escalates
    later = await say(app, "həbləri yığmışam")
    case = await the_case(app, later)
    assert case.risk == "imminent"


async def test_claim_is_atomic_under_concurrency(app: App) -> None:
    out = await say(app, "Özümü öldürmək istəyirəm")
    case_id = out.events[0].case_id
    results = await asyncio.gather(app.desk.claim(case_id, AYNUR), app.desk.claim(case_id, LEYLA))
    winners = [r for r in results if r.ok]
    losers = [r for r in results if not r.ok]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].reason == "already_claimed"
    assert losers[0].holder == winners[0].case.assignee_name


async def test_many_concurrent_claims_one_winner(app: App) -> None:
    out = await say(app, "insanla danışmaq istəyirəm, operator")
    case_id = out.events[0].case_id
    staff = [StaffMember(id=f"s{i}", name=f"Counsellor {i}") for i in range(8)]
    results = await asyncio.gather(*(app.desk.claim(case_id, s) for s in staff))
    assert sum(r.ok for r in results) == 1
    assert await count(app, Case, Case.status == "claimed") == 1


async def test_live_relay_both_ways_then_close_with_feedback(app: App) -> None:
    out = await say(app, "Özümü öldürmək istəyirəm")
    case_id = out.events[0].case_id
    assert (await app.desk.claim(case_id, AYNUR)).ok
    during = await say(app, "sağ olun, danışmaq istəyirəm")
    assert during.replies == []  # the counsellor answers now, not the bot
    reply = await app.desk.reply(case_id, AYNUR, text="Salam, mən buradayam. Nə baş verir?")
    assert reply.ok
    other = await app.desk.reply(case_id, LEYLA, text="hi")
    assert not other.ok and other.reason == "not_assignee"
    assert (await app.desk.close(case_id, AYNUR)).refusal == Refusal.OUTCOME_NEEDED
    closed = await app.desk.close(case_id, AYNUR, CloseOutcome.SAFE_NOW)
    assert closed.ok
    deliveries = await app.outbox.due("test", limit=100)
    person_texts = [d.payload.text for d in deliveries]
    assert any("Salam, mən buradayam" in t for t in person_texts)
    assert all("Aynur" not in t for t in person_texts)  # anonymous: never the counsellor's name
    feedback = [b.data for d in deliveries for b in d.payload.flat_buttons()]
    assert f"fb:yes:{case_id}" in feedback
    thanks = await say(app, button=f"fb:yes:{case_id}")
    assert thanks.replies
    async with app.sessions() as s:
        case = await s.get(Case, case_id)
    assert case.feedback == "yes" and case.status == "closed" and case.first_response_at is not None
    assert case.outcome == "safe_now" and case.closed_by_id == AYNUR.id and case.closed_by == "Aynur"
    # The next message starts a new conversation and a new case.
    fresh = await say(app, "Salam yenə")
    assert fresh.conversation_id != out.conversation_id


async def test_forget_leaves_no_message_text_of_the_person(app: App) -> None:
    await say(app, "Salam", user="forgetful")
    out = await say(app, "məktəbdə məni incidirlər, çox pis hiss edirəm", user="forgetful")
    await say(app, "Özümü öldürmək istəyirəm", user="forgetful")
    await say(app, "Salam, mən başqa adamam", user="other")
    asked = await say(app, "/forget", user="forgetful")
    assert {"forget:yes", "forget:no"} <= set(payloads(asked))
    done = await say(app, button="forget:yes", user="forgetful")
    assert "116111" in texts(done)
    async with app.sessions() as s:
        remaining = list(await s.scalars(select(Message.text).where(Message.sender == "person")))
        assert all("incidirlər" not in (t or "") and "öldürmək" not in (t or "") for t in remaining)
        assert "Salam, mən başqa adamam" in remaining  # other people untouched
        pseudonym = app.engine.pseudo.pseudonym("test", "forgetful")
        assert await s.scalar(select(Person).where(Person.pseudonym == pseudonym)) is None
        convs = list(await s.scalars(select(Conversation).where(Conversation.id == out.conversation_id)))
        assert convs and convs[0].person_id is None and convs[0].forgotten_at is not None
        case = await s.scalar(select(Case).where(Case.conversation_id == out.conversation_id))
        # a case at risk stays in the queue for the staff, marked, without the person's words
        assert case.status == "queued" and case.person_left_at is not None and case.person_id is None
        assert case.signals and all(not sig.get("evidence") for sig in case.signals)
        # the confirmation still reaches the person
        pending = list(await s.scalars(select(OutboxItem).where(OutboxItem.person_id.is_(None))))
        assert any("116111" in (o.payload or {}).get("text", "") for o in pending if o.target == "person")
    # writing again starts afresh
    again = await say(app, "Salam", user="forgetful")
    assert "116111" in texts(again)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 100_000},
        {"text": "salam\x00\x01\x07 kömək\u200b edin\ud800"},
        {"button": "nonexistent:payload"},
        {"button": "art:no_such_article:99"},
        {"button": "x" * 500},
        {"text": None, "media": "sticker"},
    ],
    ids=[
        "empty",
        "blank",
        "100kb",
        "control-chars",
        "unknown-button",
        "bad-article",
        "huge-button",
        "sticker",
    ],
)
async def test_bad_input_gets_a_clear_answer_and_is_stored(app: App, kwargs: dict) -> None:
    out = await say(app, user="weird", **kwargs)
    assert out.replies and all(r.text.strip() for r in out.replies)
    assert await count(app, Message, Message.sender == "person") == 1


async def test_unknown_user_pressing_an_old_button(app: App) -> None:
    out = await say(app, user="stranger", button="safe:yes")
    assert out.replies and "human" in payloads(out)
    assert out.events == []


async def test_very_long_message_is_stored_whole(app: App) -> None:
    long_text = ("Məktəbdə problemlərim var. " * 4000)[:100_000]
    await say(app, long_text, user="long")
    async with app.sessions() as s:
        stored = await s.scalar(select(Message.text).where(Message.sender == "person"))
    assert stored == long_text.strip()


async def test_duplicate_delivery_is_processed_once(app: App) -> None:
    first = await say(app, "Salam", external_id="update-1")
    second = await say(app, "Salam", external_id="update-1")
    assert first.replies and second.duplicate and not second.replies
    assert await count(app, Message, Message.sender == "person") == 1
    assert await count(app, InboxEntry, InboxEntry.status == "done") == 1


async def test_concurrent_duplicate_delivery_is_processed_once(app: App) -> None:
    results = await asyncio.gather(*(say(app, "Salam", external_id="dup-7") for _ in range(3)))
    assert sum(not r.duplicate for r in results) == 1
    assert await count(app, Message, Message.sender == "person") == 1


async def test_idle_conversation_ends_and_a_new_one_starts(app: App) -> None:
    first = await say(app, "imtahandan qorxuram")
    async with app.sessions() as s, s.begin():
        conv = await s.get(Conversation, first.conversation_id)
        conv.last_activity_at = conv.last_activity_at - timedelta(hours=30)
    second = await say(app, "yenə salam")
    assert second.conversation_id != first.conversation_id
    async with app.sessions() as s:
        old = await s.scalar(select(Case).where(Case.conversation_id == first.conversation_id))
    assert old.status == "closed" and old.outcome == "idle" and old.closed_by is None


async def test_open_case_survives_idle_time(app: App) -> None:
    first = await say(app, "Özümü öldürmək istəyirəm")
    async with app.sessions() as s, s.begin():
        conv = await s.get(Conversation, first.conversation_id)
        conv.last_activity_at = conv.last_activity_at - timedelta(hours=30)
    second = await say(app, "hələ buradayam")
    assert second.conversation_id == first.conversation_id


async def test_person_ids_are_never_stored_in_clear(app: App) -> None:
    await say(app, "Salam", user="987654321", address="987654321")
    async with app.sessions() as s:
        person = await s.scalar(select(Person))
    assert "987654321" not in person.pseudonym and "987654321" not in (person.address_sealed or "")
    assert app.engine.pseudo.unseal(person.address_sealed) == "987654321"


async def test_queue_orders_by_priority_then_risk_then_waiting(app: App) -> None:
    await say(app, "operatorla danışmaq istəyirəm", user="a")
    await say(app, "Özümü öldürmək istəyirəm", user="b")
    await say(app, "bu gecə körpüdən atılacağam, hamıya əlvida", user="c")
    views = await app.desk.queue()
    assert [v.risk.value for v in views][:2] == ["imminent", "urgent"]
    assert views[-1].priority < views[0].priority


async def test_forget_works_during_a_live_conversation(app: App) -> None:
    out = await say(app, "operatorla danışmaq istəyirəm")
    case_id = out.events[0].case_id
    assert (await app.desk.claim(case_id, AYNUR)).ok
    relayed = await say(app, "/notacommand hello")
    assert relayed.replies == []  # words for the counsellor
    asked = await say(app, "/forget")
    assert "forget:yes" in payloads(asked)
    done = await say(app, button="forget:yes")
    assert [e.kind for e in done.events] == ["case_closed"]
    assert (await app.desk.reply(case_id, AYNUR, text="still there?")).refusal == Refusal.CLOSED


async def test_purge_drops_old_delivery_records_only(app: App) -> None:
    await say(app, "Salam", external_id="old-1")
    for item in await app.outbox.due("test"):
        await app.outbox.sent(item.id)
    kept = await housekeeping(app, timedelta(days=7))
    assert kept["inbox"] == 0 and kept["outbox"] == 0
    removed = await housekeeping(app, timedelta(seconds=-1))
    assert removed["inbox"] == 1 and removed["outbox"] >= 1
    assert await count(app, Message) >= 2  # the conversation itself stays
