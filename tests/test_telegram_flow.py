"""The Telegram channel end to end, with the real aiogram client over HTTP against the local Bot API:
a teenager's suicidal message becomes a case card; a counsellor claims it, they talk through the bot
(text and media, both ways, anonymously) and the counsellor closes it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.models import Case, InboxEntry
from tests.telegram_fixtures import TG, chat_message, staff_sends_photo

TEEN = 42
SUICIDAL = "Özümü öldürmək istəyirəm, artıq qərar vermişəm, bu axşam"


def to_person_text(message) -> str:
    return message.data.get("text") or message.data.get("caption") or ""


def buttons(message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row]


async def open_case(tg: TG, user: int = TEEN, text: str = SUICIDAL):
    tg.server.user_sends_text(user, text, first_name="Aysel", language_code="az")
    card = await tg.case_card()
    await tg.idle()
    return card


# ---- the whole story, step by step: a failure names its step ----------------------------------------
async def step_start_opens_no_topic(tg: TG) -> None:
    tg.server.user_sends_text(TEEN, "/start", first_name="Aysel", language_code="az")
    await tg.idle()
    assert tg.server.topics == {}
    assert tg.texts_to(TEEN) == [tg.app.content.t("welcome.intro", "az", "unknown")]


async def step_crisis_makes_a_card_in_its_own_topic(tg: TG):
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    # the person hears back at once: it is a bot, 112 and 116111, and the direct question
    crisis = tg.texts_to(TEEN)[-1]
    assert "112" in crisis and "116111" in crisis
    # the card: in its own new topic, with number, risk, reasons, category and the buttons
    assert card.thread_id is not None and server.topics[card.thread_id].created_by_bot
    assert card.text.startswith("#1")
    assert content.t("staff.risk.imminent", "az") in card.text
    assert content.category_label("psychological", "az") in card.text
    assert "artıq qərar vermişəm" in card.text  # the last messages
    case = await tg.app.desk.case(1)
    assert case is not None and case.signals
    gravest = max(case.signals, key=lambda s: s.level.rank)
    assert content.signal_label(gravest, "az") in card.text  # the reason, in the staff chat's language
    assert buttons(card) == ["claim:1"]  # a crisis case is closed only by the one who claimed it
    assert "#1" in server.topics[card.thread_id].name
    return card


async def step_claim_shows_who_and_tells_the_person(tg: TG, card) -> None:
    server, content = tg.server, tg.app.content
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    assert server.callback_answers[-1].text == content.t("staff.done.claim", "az", case=1)
    card_now = server.message(tg.staff, card.message_id)
    assert "Staff 501" in card_now.text and buttons(card_now) == ["release:1", "close:1"]
    assert tg.texts_to(TEEN)[-1] == content.t("relay.joined", "az", "unknown")


async def step_words_go_both_ways_anonymously(tg: TG, card) -> None:
    server, content = tg.server, tg.app.content
    server.user_sends_text(TEEN, "Evde hec kim yoxdur")
    await tg.idle()
    relayed = tg.staff_messages(card.thread_id)[-1]
    assert "Evde hec kim yoxdur" in relayed.text and "#1" in relayed.text
    server.staff_sends_text(501, "Salam, mən buradayam. Indi təhlükəsizsən?", thread_id=card.thread_id)
    await tg.idle()
    to_person = tg.to_user(TEEN)[-1]
    assert to_person.text == content.t("relay.prefix", "az", text="Salam, mən buradayam. Indi təhlükəsizsən?")
    assert to_person.data["from"]["is_bot"] and "Staff" not in to_person.text
    assert "forward_origin" not in to_person.data


async def step_media_is_copied_both_ways_never_forwarded(tg: TG, card):
    server, content = tg.server, tg.app.content
    photo = server.user_sends_photo(TEEN, caption="bax")
    await tg.idle()
    copied = tg.staff_messages(card.thread_id)[-1]
    assert copied.method == "copyMessage" and copied.copied_from == (TEEN, photo["message"]["message_id"])
    assert "photo" in copied.data and "bax" in copied.text
    staff_photo = staff_sends_photo(server, 501, thread_id=card.thread_id, caption="Bu nömrəyə zəng et")
    await tg.idle()
    back = tg.to_user(TEEN)[-1]
    assert back.method == "copyMessage" and "photo" in back.data
    assert back.copied_from == (tg.staff, staff_photo["message"]["message_id"])
    assert back.text == content.t("relay.prefix", "az", text="Bu nömrəyə zəng et")
    assert "forward_origin" not in back.data
    return back


async def step_close_asks_the_outcome_then_the_person_and_the_review(tg: TG, card, last_to_person) -> None:
    server, content = tg.server, tg.app.content
    server.staff_presses(501, card.message_id, "close:1")
    await tg.idle()
    outcomes = buttons(server.message(tg.staff, card.message_id))
    assert outcomes[:2] == ["out:1:0", "out:1:1"] and len(outcomes) == 10
    assert tg.texts_to(TEEN)[-1] == to_person_text(last_to_person)  # nothing told to the person yet
    server.staff_presses(501, card.message_id, "out:1:0")
    await tg.idle()
    closing, ask = tg.to_user(TEEN)[-2:]
    assert closing.text == content.t("close.message", "az", "unknown")
    assert buttons(ask) == ["fb:yes:1", "fb:no:1"]
    assert server.topics[card.thread_id].closed
    assert buttons(server.message(tg.staff, card.message_id)) == []
    # the triage review in the topic: one tap for the risk, one for the category
    review = tg.staff_messages(card.thread_id)[-1]
    assert "rv:1:r:imminent" in buttons(review) and "rv:1:c:social" in buttons(review)
    server.staff_presses(501, review.message_id, "rv:1:r:urgent")
    server.staff_presses(501, review.message_id, "rv:1:c:psychological")
    await tg.idle()
    server.user_presses(TEEN, ask.message_id, "fb:yes:1")
    await tg.idle()


async def step_everything_is_recorded(tg: TG) -> None:
    async with tg.app.sessions() as session:
        stored = await session.get(Case, 1)
        assert stored is not None and stored.status == "closed" and stored.feedback == "yes"
        assert (stored.outcome, stored.closed_by, stored.closed_by_id) == (
            "safe_now",
            "Staff 501",
            "telegram:501",
        )
        assert (stored.review_risk, stored.review_category) == ("urgent", "psychological")
        inbox = list(await session.scalars(select(InboxEntry)))
    assert inbox and all(row.status == "done" and row.payload is None for row in inbox)
    assert tg.server.unanswered_callbacks == []


async def test_suicidal_message_to_card_claim_relay_and_close(tg: TG) -> None:
    await step_start_opens_no_topic(tg)
    card = await step_crisis_makes_a_card_in_its_own_topic(tg)
    await step_claim_shows_who_and_tells_the_person(tg, card)
    await step_words_go_both_ways_anonymously(tg, card)
    last = await step_media_is_copied_both_ways_never_forwarded(tg, card)
    await step_close_asks_the_outcome_then_the_person_and_the_review(tg, card, last)
    await step_everything_is_recorded(tg)


@pytest.mark.parametrize("tg", [{"server": {"staff_forum": False}}], indirect=True)
async def test_without_forum_the_relay_goes_by_replies_to_the_card(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    assert card.thread_id is None and server.topics == {}
    server.staff_presses(502, card.message_id, "claim:1")
    await tg.idle()
    server.user_sends_text(TEEN, "Qorxuram")
    await tg.idle()
    relayed = tg.staff_messages()[-1]
    assert relayed.data["reply_to_message"]["message_id"] == card.message_id

    server.staff_sends_text(502, "Yanındayam", reply_to_message_id=card.message_id)
    server.staff_sends_text(502, "Danış, dinləyirəm", reply_to_message_id=relayed.message_id)
    server.staff_sends_text(502, "colleagues talking, not for the person")
    await tg.idle()
    texts = tg.texts_to(TEEN)
    assert texts[-2:] == [
        content.t("relay.prefix", "az", text="Yanındayam"),
        content.t("relay.prefix", "az", text="Danış, dinləyirəm"),
    ]
    assert not any("colleagues" in t for t in texts)


async def test_counsellor_must_claim_before_writing(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    before = len(tg.to_user(TEEN))
    server.staff_sends_text(503, "Salam", thread_id=card.thread_id)
    await tg.idle()
    assert len(tg.to_user(TEEN)) == before  # nothing reached the person
    notice = tg.staff_messages(card.thread_id)[-1]
    assert notice.text == content.t("staff.refused.not_claimed", "az", case=1)
    # and only the one who claimed may write
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    server.staff_sends_text(503, "Salam yene", thread_id=card.thread_id)
    await tg.idle()
    assert not any("Salam yene" in t for t in tg.texts_to(TEEN))
    assert tg.staff_messages(card.thread_id)[-1].text == content.t(
        "staff.refused.not_assignee", "az", case=1, name="Staff 501"
    )


async def test_media_outside_a_live_conversation_gets_a_kind_answer(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    server.user_sends_voice(TEEN)
    server.user_sends_sticker(TEEN)
    await tg.idle()
    assert tg.texts_to(TEEN) == [content.t("media.please_write", "az", "unknown")] * 2
    assert tg.staff_messages() == []


async def test_silent_in_other_groups_and_people_cannot_reach_staff_actions(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    group = {"id": -100777, "type": "supergroup", "title": "Somewhere else"}
    chat_message(server, group, 77, "/queue")
    chat_message(server, group, 77, "özümü öldürmək istəyirəm")
    # a person in private: /queue is just an unknown command; a forged claim button does nothing
    server.user_sends_text(43, "/queue")
    server.user_presses(43, card.message_id, "claim:1", strict=False)
    await tg.idle()
    assert not any(call.params.get("chat_id") == -100777 for call in server.calls)
    assert tg.texts_to(43)[0] == content.t("error.unknown_command", "az")
    view = await tg.app.desk.case(1)
    assert view is not None and view.status == "queued"
    assert [t for t in tg.staff_messages() if "Open" in (t.text or "") or "Açıq" in (t.text or "")] == []


async def test_long_messages_are_split_not_lost(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    longest = ("Çox şey olub. " * 400)[:4096]  # the most a person can send in one Telegram message
    server.user_sends_text(TEEN, longest)
    await tg.idle()
    parts = tg.staff_messages(card.thread_id)[-2:]
    assert all(len(p.text) <= 4096 for p in parts)
    assert "".join(p.text for p in parts).replace(" ", "").endswith(longest.replace(" ", "")[-200:])
    reply = "Səni eşidirəm. " * 300
    server.staff_sends_text(501, reply, thread_id=card.thread_id)
    await tg.idle()
    got = tg.texts_to(TEEN)[-2:]
    assert got[0].startswith(content.t("relay.prefix", "az", text="")[:5]) and all(
        len(t) <= 4096 for t in got
    )
    assert "".join(got).replace(" ", "").replace("\n", "").endswith(reply.replace(" ", "")[-100:])


async def test_a_rise_of_risk_edits_the_card_renames_the_topic_and_alerts_the_counsellors(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    # a counsellor who has worked today is mentioned in the alert
    server.user_sends_text(50, "insanla danışmaq istəyirəm")
    other = await tg.case_card()
    server.staff_presses(502, other.message_id, "claim:1")
    await tg.idle()

    server.user_sends_text(TEEN, "yaşamaq istəmirəm", first_name="Aysel", language_code="az")
    await tg.idle()
    thread, card_id = await tg.channel.refs.get(2)
    card = server.message(tg.staff, card_id)
    assert content.t("staff.risk.urgent", "az") in card.text
    # while the case waits, what the person writes goes to the topic at once, and they hear back
    server.user_sends_text(TEEN, "kimsə var?")
    await tg.idle()
    assert "kimsə var?" in tg.staff_messages(thread)[-1].text
    assert "112" in tg.texts_to(TEEN)[-1]

    server.user_sends_text(TEEN, "həbləri yığmışam")
    await tg.idle()
    assert tg.texts_to(TEEN)[-1] == content.t("crisis.suicide_imminent", "az", "unknown")
    card = server.message(tg.staff, card_id)
    assert content.t("staff.risk.imminent", "az") in card.text and card.edited
    assert content.t("staff.risk.imminent", "az") in server.topics[thread].name
    alert = tg.staff_messages(thread)[-1]
    assert alert.text.startswith(
        content.t(
            "tg.alert.raised",
            "az",
            case=2,
            before=content.t("staff.risk.urgent", "az"),
            risk=content.t("staff.risk.imminent", "az"),
        )
    )
    assert "həbləri yığmışam" in alert.text
    assert any(e["type"] == "text_mention" and e["user"]["id"] == 502 for e in alert.entities)
    assert buttons(alert) == ["claim:2"]
