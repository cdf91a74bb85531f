# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Messenger and Instagram with the counsellors' Telegram staff chat, in one App: the local Graph API
server and the local Bot API server, the real channels, the real HTTP server.

A crisis on Messenger becomes a case card (marked Messenger) in the staff chat; a counsellor claims it
and their words reach the person without their name; the person's answer reaches the case's topic.
Meta's windows: after 24 hours a counsellor's reply goes with the HUMAN_AGENT tag, after 7 days it
cannot go and the counsellor is told in the staff chat; a person who blocked the Page the same."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.storage.models import Case, Conversation, OutboxItem
from tests.graphapi.fixtures import MS, ms_tg, tg_content, tg_triager  # noqa: F401

PSID = "6024913827462910"
IGSID = "17849230000000042"
SUICIDAL = "Özümü öldürmək istəyirəm, artıq qərar vermişəm, bu axşam"
COUNSELLOR = 501


async def open_and_claim(ms: MS, user: str = PSID, channel: str = "messenger", claim: bool = True):
    tg = ms.tg
    assert tg is not None
    await ms.say(user, SUICIDAL, channel=channel)
    card = await tg.case_card()
    await ms.idle()
    if claim:
        tg.server.staff_presses(COUNSELLOR, card.message_id, "claim:1")
        await ms.idle()
    return card


async def age(ms: MS, user: str, hours: float, meta_too: bool = True) -> None:
    """Time passes: the person last wrote ``hours`` earlier (for the bot and, by default, for Meta)."""
    async with ms.app.db.write() as session:
        for conversation in await session.scalars(select(Conversation)):
            conversation.last_activity_at = conversation.last_activity_at - timedelta(hours=hours)
    if meta_too:
        ms.graph.age(user, hours)


def notices(ms: MS) -> list[str]:
    assert ms.tg is not None
    return [m.text for m in ms.tg.staff_messages() if m.text and m.text.startswith(("🚫", "⏳"))]


async def test_crisis_on_messenger_reaches_the_staff_chat_and_they_talk_through_the_bot(ms_tg: MS) -> None:
    ms, tg, content, graph = ms_tg, ms_tg.tg, ms_tg.content, ms_tg.graph
    assert tg is not None
    card = await open_and_claim(ms, claim=False)
    # the person hears at once that a counsellor is called, with 112 and 116111; the answer buttons
    crisis = graph.sent(PSID)[-1]
    assert "112" in crisis.text and "116111" in crisis.text and crisis.payloads == ["safe:yes", "safe:no"]
    # the card: marked Messenger, with the person's words
    assert card.text.startswith("#1") and content.t("staff.channel.messenger", "az") in card.text
    assert content.t("staff.risk.imminent", "az") in card.text and "artıq qərar vermişəm" in card.text
    async with ms.app.sessions() as session:
        case = await session.get(Case, 1)
    assert case is not None and case.channel == "messenger"

    tg.server.staff_presses(COUNSELLOR, card.message_id, "claim:1")
    await ms.idle()
    assert graph.texts_to(PSID)[-1] == content.t("relay.joined", "az", "unknown")

    tg.server.staff_sends_text(
        COUNSELLOR, "Salam, mən buradayam. İndi təhlükəsizsən?", thread_id=card.thread_id
    )
    await ms.idle()
    reply = graph.sent(PSID)[-1]
    assert reply.text == content.t("relay.prefix", "az", text="Salam, mən buradayam. İndi təhlükəsizsən?")
    assert "Staff" not in reply.text and str(COUNSELLOR) not in reply.text
    assert reply.messaging_type == "RESPONSE" and reply.quick_replies == []

    await ms.say(PSID, "Evdə heç kim yoxdur")
    await ms.idle()
    relayed = tg.staff_messages(card.thread_id)[-1]
    assert "Evdə heç kim yoxdur" in relayed.text and "#1" in relayed.text
    # a photo from Messenger is named in the topic (Meta's files are not copied to Telegram)
    await ms.post(graph.attachment(PSID, "image"))
    await ms.idle()
    assert content.t("tg.media.photo", "az") in tg.staff_messages(card.thread_id)[-1].text
    assert notices(ms) == [] and graph.rejections == []


async def test_instagram_cases_are_marked_instagram(ms_tg: MS) -> None:
    ms, tg, content, graph = ms_tg, ms_tg.tg, ms_tg.content, ms_tg.graph
    assert tg is not None
    card = await open_and_claim(ms, IGSID, "instagram")
    assert content.t("staff.channel.instagram", "az") in card.text
    tg.server.staff_sends_text(COUNSELLOR, "Buradayam", thread_id=card.thread_id)
    await ms.idle()
    reply = graph.sent(IGSID)[-1]
    assert reply.channel == "instagram" and reply.text == content.t("relay.prefix", "az", text="Buradayam")
    await ms.say(IGSID, "sağ ol", channel="instagram")
    await ms.idle()
    assert "sağ ol" in tg.staff_messages(card.thread_id)[-1].text


async def test_after_24_hours_a_counsellor_answers_with_the_human_agent_tag_for_7_days(ms_tg: MS) -> None:
    ms, tg, content, graph = ms_tg, ms_tg.tg, ms_tg.content, ms_tg.graph
    assert tg is not None
    card = await open_and_claim(ms, claim=False)
    sent_before = len(graph.sent(PSID))
    await age(ms, PSID, 30)
    # the claim's "a counsellor joined" is the bot's: not allowed after 24 hours, given up silently
    tg.server.staff_presses(COUNSELLOR, card.message_id, "claim:1")
    await ms.idle()
    assert len(graph.sent(PSID)) == sent_before
    async with ms.app.sessions() as session:
        dead = list(await session.scalars(select(OutboxItem).where(OutboxItem.status == "dead")))
    assert [d.payload["text"] for d in dead] == [content.t("relay.joined", "az", "unknown")]
    # the counsellor's words go, tagged HUMAN_AGENT
    tg.server.staff_sends_text(COUNSELLOR, "Salam, necəsən?", thread_id=card.thread_id)
    await ms.idle()
    reply = graph.sent(PSID)[-1]
    assert reply.text == content.t("relay.prefix", "az", text="Salam, necəsən?")
    assert (reply.messaging_type, reply.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    # after 7 days nothing can go: the counsellor is told in the staff chat, in the staff language
    await age(ms, PSID, 24 * 6)
    tg.server.staff_sends_text(COUNSELLOR, "Hələ buradayam", thread_id=card.thread_id)
    await ms.idle()
    assert graph.sent(PSID)[-1] == reply
    expected = content.t(
        "messenger.staff.not_delivered_window",
        "az",
        case=1,
        channel=content.t("staff.channel.messenger", "az"),
        outcome=content.t("outcome.unreachable", "az"),
    )
    assert notices(ms) == [expected]
    # when the person writes again, the conversation goes on
    await ms.say(PSID, "bağışlayın, telefonum yox idi")
    await ms.idle()
    assert "telefonum yox idi" in tg.staff_messages(card.thread_id)[-1].text
    tg.server.staff_sends_text(COUNSELLOR, "Yaxşı ki yazdın", thread_id=card.thread_id)
    await ms.idle()
    last = graph.sent(PSID)[-1]
    assert last.text.endswith("Yaxşı ki yazdın") and last.messaging_type == "RESPONSE"
    assert graph.rejections == []  # the bot never sent what Meta would have refused


async def test_when_metas_clock_says_the_24_hours_are_over_the_reply_goes_tagged(ms_tg: MS) -> None:
    ms, tg, graph = ms_tg, ms_tg.tg, ms_tg.graph
    assert tg is not None
    card = await open_and_claim(ms)
    graph.age(PSID, 25)  # the bot still counts 24 hours, Meta does not
    tg.server.staff_sends_text(COUNSELLOR, "Buradayam", thread_id=card.thread_id)
    await ms.idle()
    assert graph.rejections == [(PSID, 10, 2018278)]
    assert (graph.sent(PSID)[-1].messaging_type, graph.sent(PSID)[-1].tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert notices(ms) == []


async def test_a_person_who_blocked_the_page_is_unreachable_and_the_counsellors_are_told(ms_tg: MS) -> None:
    ms, tg, content, graph = ms_tg, ms_tg.tg, ms_tg.content, ms_tg.graph
    assert tg is not None
    card = await open_and_claim(ms, claim=False)
    graph.block(PSID)
    words = {"case": 1, "channel": "Messenger", "outcome": content.t("outcome.unreachable", "az")}
    # found on the bot's own message (the claim's "a counsellor joined"): the case is open, they are told
    tg.server.staff_presses(COUNSELLOR, card.message_id, "claim:1")
    await ms.idle()
    assert notices(ms) == [content.t("messenger.staff.blocked", "az", **words)]
    calls = len(graph.calls)
    # the counsellor writes: nothing is tried any more, and they are told their words did not arrive
    tg.server.staff_sends_text(COUNSELLOR, "Salam?", thread_id=card.thread_id)
    tg.server.staff_sends_text(COUNSELLOR, "Orda kimsə var?", thread_id=card.thread_id)
    await ms.idle()
    assert len(graph.calls) == calls
    assert notices(ms)[1:] == [content.t("messenger.staff.not_delivered_blocked", "az", **words)] * 2
    assert graph.rejections == [(PSID, 551, 1545041)]
    # they unblock and write again: the conversation goes on
    await ms.say(PSID, "bağışlayın")
    await ms.idle()
    tg.server.staff_sends_text(COUNSELLOR, "Yaxşı ki qayıtdın", thread_id=card.thread_id)
    await ms.idle()
    assert graph.sent(PSID)[-1].text.endswith("Yaxşı ki qayıtdın")
