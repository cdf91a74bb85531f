# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""The Messenger/Instagram webhook end to end: the real aiohttp server of the bot, the real channel,
a local Graph API server shaped like Meta's (tests/graphapi): the subscription handshake, signatures,
what people send (text, quick replies, postbacks, attachments) and what is ignored, one answer per
event however often Meta delivers it, and Instagram the same way."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import select

from bot.storage.models import InboxEntry, Message, Person
from tests.graphapi import VERIFY_TOKEN, sign
from tests.graphapi.fixtures import MS, ms, tg_content, tg_triager  # noqa: F401

PSID = "6024913827462910"
IGSID = "17849230000000042"


async def test_the_subscription_handshake_answers_the_challenge_only_with_the_right_token(ms: MS) -> None:
    async with aiohttp.ClientSession() as client:
        ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        async with client.get(ms.url, params=ok) as response:
            assert response.status == 200 and await response.text() == "1158201444"
        for wrong in (
            {**ok, "hub.verify_token": "guess"},
            {**ok, "hub.mode": "unsubscribe"},
            {"hub.challenge": "1158201444"},
            {**ok, "hub.verify_token": VERIFY_TOKEN + "x"},
        ):
            async with client.get(ms.url, params=wrong) as response:
                assert response.status == 403 and "1158201444" not in await response.text()


async def test_a_bad_or_missing_signature_gets_403_and_nothing_is_stored(ms: MS) -> None:
    body = json.dumps(ms.graph.envelope([ms.graph.text(PSID, "Salam")])).encode()
    for headers in (
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": sign(body, "another-apps-secret")},
        {"X-Hub-Signature-256": sign(body)[len("sha256=") :]},  # the bare hex
        {"X-Hub-Signature": sign(body).replace("sha256", "sha1")},  # only the old SHA-1 header
    ):
        async with aiohttp.ClientSession() as client:
            async with client.post(ms.url, data=body, headers=headers) as response:
                assert response.status == 403
    # a signature of another body (the body changed on the way)
    status, _ = await ms.graph.deliver(ms.url, body.replace(b"Salam", b"Salam!"), signature=sign(body))
    assert status == 403
    await ms.idle()
    assert await ms.inbox_rows() == 0 and ms.graph.sent_messages == []
    # the same body with the right signature is taken
    status, _ = await ms.graph.deliver(ms.url, body)
    assert status == 200
    await ms.graph.wait_for_sent(PSID)


async def test_a_signed_text_gets_the_welcome_in_the_persons_language(ms: MS) -> None:
    content = ms.content
    await ms.say(PSID, "Salam")
    await ms.say("6024913827462911", "Здравствуйте, мне нужна помощь")
    await ms.say("6024913827462912", "/start")
    await ms.idle()
    welcome = ms.graph.sent(PSID)[0]
    assert welcome.text == content.t("welcome.intro", "az", "unknown")
    assert welcome.messaging_type == "RESPONSE" and welcome.tag is None
    # the language came from the words: no language buttons, the tips and the counsellor one tap away
    assert welcome.payloads == ["topics", "human"]
    assert all(len(title) <= 20 for title, _ in welcome.choices)
    assert ("👤 Məsləhətçi", "human") in welcome.choices  # the short label from content
    # /start has no words to tell the language by: the language buttons come first
    started = ms.graph.sent("6024913827462912")[0]
    assert started.payloads == ["lang:az", "lang:ru", "lang:en", "topics", "human"]
    # a first message with a concern: the short welcome and the answer, in Russian, in one message
    russian = ms.graph.texts_to("6024913827462911")
    assert russian[0] == content.t("welcome.short", "ru") + "\n\n" + content.t("ack.other", "ru")
    async with ms.app.sessions() as session:
        people = list(await session.scalars(select(Person)))
    assert {p.channel for p in people} == {"messenger"}
    assert all(PSID not in (p.pseudonym or "") and p.address_sealed for p in people)  # hashed, sealed


async def test_quick_replies_and_postbacks_carry_their_payloads(ms: MS) -> None:
    content, graph = ms.content, ms.graph
    await ms.say(PSID, "/start")
    await ms.idle()
    title = dict((p, t) for t, p in graph.sent(PSID)[0].choices)["lang:en"]
    await ms.post(graph.quick_reply(PSID, title, "lang:en"))
    await ms.idle()
    assert graph.texts_to(PSID)[-1].startswith(content.t("lang.set", "en"))
    # a postback (a button template's button, or the persistent menu) works the same way
    before = len(graph.sent(PSID))
    await ms.post(graph.postback(PSID, "Menu", "menu"))
    await ms.idle()
    assert graph.sent(PSID)[before].text == content.t("menu.text", "en", "unknown")
    # an old-style postback without a mid, and a command from the persistent menu
    before = len(graph.sent(PSID))
    await ms.post(graph.postback(PSID, "Start", "/start", with_mid=False))
    await ms.idle()
    assert graph.sent(PSID)[before].text == content.t("welcome.intro", "en", "unknown")
    async with ms.app.sessions() as session:
        presses = list(await session.scalars(select(Message.button).where(Message.button.is_not(None))))
    assert presses == ["lang:en", "menu"]


async def test_attachments_are_named_and_echoes_and_receipts_are_ignored(ms: MS) -> None:
    content, graph = ms.content, ms.graph
    await ms.post(graph.attachment(PSID, "audio"))
    await ms.idle()
    assert graph.texts_to(PSID) == [content.t("media.please_write", "az", "unknown")]
    async with ms.app.sessions() as session:
        assert list(await session.scalars(select(Message.media).where(Message.sender == "person"))) == [
            "voice"
        ]
    rows = await ms.inbox_rows()
    await ms.post(graph.echo(PSID, "Salam"), graph.delivery(PSID), graph.read(PSID))
    await ms.idle()
    assert await ms.inbox_rows() == rows and len(graph.sent(PSID)) == 1


async def test_the_same_mid_twice_is_processed_once(ms: MS) -> None:
    graph = ms.graph
    event = graph.text(PSID, "Salam")
    await ms.post(event, event)  # twice in one request
    await ms.post(event)  # and again (Meta redelivers when it did not see the 200)
    await ms.idle()
    answers = len(graph.sent(PSID))
    assert answers >= 1
    await ms.post(event)
    await ms.idle()
    assert len(graph.sent(PSID)) == answers
    async with ms.app.sessions() as session:
        assert len(list(await session.scalars(select(Message).where(Message.sender == "person")))) == 1
        journal = list(await session.scalars(select(InboxEntry)))
    assert len(journal) == 1 and journal[0].status == "done" and journal[0].payload is None
    assert len(journal[0].external_id) <= 64 and "m_" not in journal[0].external_id


async def test_instagram_events_arrive_and_are_answered_the_same_way(ms: MS) -> None:
    content, graph = ms.content, ms.graph
    await ms.say(IGSID, "/start", channel="instagram")
    await ms.idle()
    welcome = graph.sent(IGSID)[0]
    assert welcome.channel == "instagram" and welcome.text == content.t("welcome.intro", "az", "unknown")
    title = dict((p, t) for t, p in welcome.choices)["lang:ru"]
    await ms.post(graph.quick_reply(IGSID, title, "lang:ru", channel="instagram"), channel="instagram")
    await ms.idle()
    assert graph.texts_to(IGSID)[-1].startswith(content.t("lang.set", "ru"))
    async with ms.app.sessions() as session:
        people = list(await session.scalars(select(Person)))
        journal = list(await session.scalars(select(InboxEntry.channel)))
    assert [p.channel for p in people] == ["instagram"] and set(journal) == {"instagram"}


async def test_the_reports_count_messenger_and_instagram_contacts_in_their_own_rows(ms: MS) -> None:
    from bot.reports import build_report, helpline_today, render_table

    await ms.say(PSID, "Salam")
    await ms.say("6024913827462911", "Salam")
    await ms.say(IGSID, "Salam", channel="instagram")
    await ms.idle()
    today = helpline_today()
    report = await build_report(ms.app.sessions, today, today)
    assert report.by_channel == {"messenger": 2, "instagram": 1}
    table = render_table(report, ms.content, "en")
    for code in ("messenger", "instagram"):
        assert ms.content.t(f"report.channel.{code}", "en") in table


async def test_python_m_bot_run_serves_the_webhook_on_the_one_http_server(
    tmp_path, tg_content, tg_triager
) -> None:
    """``configured_channels`` picks the channel up from the settings; the Service puts its route on the
    shared HTTP server beside /healthz, whose loops include the channel's."""
    from bot.app import build_app
    from bot.channels.messenger import MessengerChannel
    from bot.runner import Service, configured_channels
    from tests.graphapi import GraphAPIServer
    from tests.graphapi.channel import ms_settings

    async with GraphAPIServer() as graph:
        url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
        settings = ms_settings(url, tmp_path, graph.base_url, http_listen=("127.0.0.1", 0))
        app = await build_app(settings, content=tg_content, triager=tg_triager)
        channels = configured_channels(app)
        assert [type(c) for c in channels] == [MessengerChannel]
        service = Service(app, channels)
        await service.start()
        try:
            assert service.http is not None
            base = f"http://127.0.0.1:{service.http.port}"
            async with aiohttp.ClientSession() as client:
                params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
                async with client.get(f"{base}/webhooks/messenger", params=params) as response:
                    assert response.status == 200 and await response.text() == "42"
                async with client.get(f"{base}/healthz") as response:
                    assert response.status == 200
            assert {"messenger-sender", "messenger-replay"} <= set(app.health.loops)
            status, _ = await graph.deliver(
                f"{base}/webhooks/messenger", graph.envelope([graph.text(PSID, "Salam")])
            )
            assert status == 200
            await graph.wait_for_sent(PSID)
        finally:
            await service.stop()
            await app.close()


async def test_forget_on_messenger_deletes_the_person_and_still_confirms(ms: MS) -> None:
    content, graph = ms.content, ms.graph
    await ms.say(PSID, "Salam")
    await ms.idle()
    await ms.say(PSID, "/forget")
    await ms.idle()
    ask = graph.sent(PSID)[-1]
    assert "forget:yes" in ask.payloads
    title = dict((p, t) for t, p in ask.choices)["forget:yes"]
    await ms.post(graph.quick_reply(PSID, title, "forget:yes"))
    await ms.idle()
    assert graph.texts_to(PSID)[-1] == content.t("forget.done", "az", "unknown")
    async with ms.app.sessions() as session:
        assert list(await session.scalars(select(Person))) == []
        assert list(await session.scalars(select(Message.text).where(Message.sender == "person"))) == []
