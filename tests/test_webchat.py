# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""The web chat's protocol, end to end through the real bot HTTP server with aiohttp's WebSocket
client, on SQLite and PostgreSQL: hello -> session -> welcome; text; buttons; a crisis reaches the
counsellors' queue and the counsellor's reply arrives as ``relay``; what is sent while the browser
is away arrives once and in order when it comes back; wrong origins, wrong tokens, oversized and
flooding input, too many sockets; a message sent twice is handled once; a message that could not be
handled is replayed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.channels.webchat.sessions import TOKEN_RE, Sessions
from bot.domain import Inbound
from bot.payloads import Human, SetLanguage
from bot.storage.models import Case, InboxEntry, Message, OutboxItem, Person, utcnow
from tests.webchat_fixtures import COUNSELLOR, SITE, Chat, chat  # noqa: F401  (fixtures)

SUICIDAL = "Özümü öldürmək istəyirəm, artıq qərar vermişəm, bu axşam"


def texts(frames: list[dict]) -> list[str]:
    return [f["text"] for f in frames]


async def person_messages(chat: Chat) -> list[str]:
    async with chat.app.db.read() as session:
        rows = await session.scalars(
            select(Message.text).where(Message.sender == "person").order_by(Message.id)
        )
        return [r or "" for r in rows]


async def open_session(chat: Chat, lang: str = "az") -> tuple[object, str]:
    client = await chat.connect()
    session = await client.hello(lang=lang)
    welcome = (await client.messages(1))[0]
    assert welcome["text"] == chat.content.t("welcome.intro", lang)
    return client, session["session"]


async def test_hello_session_welcome_then_text_and_button(chat: Chat) -> None:
    content = chat.content
    client = await chat.connect()
    session = await client.hello(session=None, lang="az")
    assert session["new"] is True and TOKEN_RE.fullmatch(session["session"])
    welcome = await client.next()
    assert welcome["type"] == "message" and welcome["kind"] == "bot"
    assert welcome["text"] == content.t("welcome.intro", "az")
    assert isinstance(welcome["id"], int)
    data = [b["data"] for b in welcome["buttons"]]
    assert SetLanguage("ru").encode() in data and Human().encode() in data
    assert all(b["text"] for b in welcome["buttons"])

    # a button: the bot answers in Russian now
    await client.press(SetLanguage("ru").encode(), "b1")
    answer = await client.messages(1)
    assert answer[0]["text"].startswith(content.t("lang.set", "ru"))  # with what comes next, in Russian
    follow = await client.quiet()
    assert all(f["type"] == "message" and f["kind"] == "bot" for f in follow)

    # text: stored as the person's words and answered
    await client.say("Məktəbdə imtahandan çox qorxuram", "m1")
    replies = await client.messages(1)
    assert replies[0]["kind"] == "bot" and replies[0]["text"]
    await client.quiet()
    assert (await person_messages(chat))[-1] == "Məktəbdə imtahandan çox qorxuram"
    # nothing waits in the outbox: every item reached the socket and was acknowledged
    assert await chat.app.outbox.pending_count("webchat") == 0


async def test_crisis_reaches_the_queue_and_the_counsellor_answers_as_relay(chat: Chat) -> None:
    app, content = chat.app, chat.content
    client, _ = await open_session(chat)
    await client.say(SUICIDAL, "c1")
    crisis = await client.messages(1)
    await client.quiet()
    assert "112" in crisis[0]["text"] and "116111" in crisis[0]["text"]

    queue = await app.desk.queue()
    assert [c.channel for c in queue] == ["webchat"]
    case = queue[0]
    assert case.risk.escalates and case.status == "queued"
    # the staff side (the console here) hears about the new case
    async with app.db.read() as session:
        notes = await session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.channel == "console")
        )
    assert notes >= 1

    claimed = await app.desk.claim(case.id, COUNSELLOR)
    assert claimed.ok
    joined = (await client.messages(1))[0]
    assert joined["text"] == content.t("relay.joined", "az")
    assert joined["status"] == "counsellor_joined" and joined["kind"] == "bot"

    replied = await app.desk.reply(case.id, COUNSELLOR, "Mən buradayam. Evdə kimsə var?")
    assert replied.ok
    relay = (await client.messages(1))[0]
    assert relay["kind"] == "relay"
    assert relay["text"] == content.t("relay.prefix", "az", text="Mən buradayam. Evdə kimsə var?")

    # and the person's next words reach the counsellor's case
    await client.say("Hə, anam evdədir", "c2")
    for _ in range(100):  # relayed to the counsellor (no answer from the bot while they talk)
        view = await app.desk.case(case.id)
        if view is not None and ("person", "Hə, anam evdədir") in view.last_messages:
            break
        await asyncio.sleep(0.1)
    view = await app.desk.case(case.id)
    assert view is not None and ("person", "Hə, anam evdədir") in view.last_messages


async def test_messages_sent_while_away_arrive_once_and_in_order(chat: Chat) -> None:
    app = chat.app
    client, token = await open_session(chat)
    await client.press(Human().encode(), "h1")
    await client.messages(1)
    await client.quiet()
    case = (await app.desk.queue())[0]
    await app.desk.claim(case.id, COUNSELLOR)
    assert (await client.messages(1))[0]["status"] == "counsellor_joined"

    await client.close()
    await asyncio.sleep(0.2)
    for text in ("Birinci", "İkinci", "Üçüncü"):
        assert (await app.desk.reply(case.id, COUNSELLOR, text)).ok
    chat.channel.wake()
    await asyncio.sleep(0.5)
    # they wait, durably, for a browser that is not there
    assert await app.outbox.pending_count("webchat") == 3

    again = await chat.connect()
    resumed = await again.hello(session=token)
    assert resumed == {"type": "session", "session": token, "new": False}
    missed = await again.messages(3)
    assert [m["kind"] for m in missed] == ["relay"] * 3
    assert texts(missed) == [
        app.content.t("relay.prefix", "az", text=t) for t in ("Birinci", "İkinci", "Üçüncü")
    ]
    assert missed[0]["id"] < missed[1]["id"] < missed[2]["id"]
    assert await again.quiet() == []
    await chat.idle()
    assert await app.outbox.pending_count("webchat") == 0

    # once: a third visit gets nothing again, and the conversation goes on
    await again.close()
    third = await chat.connect()
    assert (await third.hello(session=token))["new"] is False
    assert await third.quiet() == []
    await third.say("Sağ olun", "t1")  # relayed to the counsellor: the bot itself says nothing
    for _ in range(100):
        if (await person_messages(chat))[-1] == "Sağ olun":
            break
        await asyncio.sleep(0.1)
    assert (await person_messages(chat))[-1] == "Sağ olun"


async def test_wrong_or_expired_token_starts_a_new_session(chat: Chat) -> None:
    app = chat.app
    client, token = await open_session(chat)
    await client.close()

    for wrong in ("nonsense", token[:-2] + "xx", token + "a", None):
        other = await chat.connect()
        fresh = await other.hello(session=wrong)
        assert fresh["new"] is True and fresh["session"] != token
        assert (await other.messages(1))[0]["text"] == app.content.t("welcome.intro", "az")
        await other.close()

    settings = app.settings
    old = Sessions(
        app.db,
        settings.pseudonym_secret,
        app.pseudo.pseudonym,
        settings.webchat_session_hours,
        clock=lambda: utcnow() - timedelta(hours=settings.webchat_session_hours + 1),
    )
    expired = old.issue()
    stale = await chat.connect()
    assert (await stale.hello(session=expired))["new"] is True
    # an old token whose person wrote lately is still good
    active = old.issue()
    await app.engine.handle(Inbound(channel="webchat", user_id=active, address=active, text="Salam"))
    async with app.db.write() as session:  # people.last_seen_at is kept to the hour: not what counts
        await session.execute(
            update(Person).values(last_seen_at=utcnow() - timedelta(hours=settings.webchat_session_hours + 2))
        )
    resumed = await chat.connect()
    assert (await resumed.hello(session=active))["new"] is False


async def test_the_socket_refuses_other_origins(chat: Chat) -> None:
    for origin in ("https://evil.example", "null", "https://www.example.org.evil.example", None):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await chat.connect(origin=origin)
        assert refused.value.status == 403
    # the listed site, and the bot's own page
    for origin in (SITE, chat.base):
        client = await chat.connect(origin=origin)
        assert (await client.hello())["type"] == "session"


async def test_oversized_and_flooding_input_is_answered_and_nothing_accepted_is_lost(chat: Chat) -> None:
    app, content = chat.app, chat.content
    client, _ = await open_session(chat, lang="en")

    limit = app.settings.webchat_max_chars
    await client.send(type="text", text="x" * (limit + 1), id="big")
    refused = await client.next()
    assert refused["type"] == "refused" and refused["reason"] == "too_long" and refused["id"] == "big"
    assert refused["text"] == content.t("webchat.ui.too_long", "en", limit=limit)
    assert str(limit) in refused["text"]

    per_minute = app.settings.webchat_messages_per_minute
    for n in range(per_minute + 3):
        await client.send(type="text", text=f"message number {n}", id=f"f{n}")
    acks, refusals = [], []
    while len(acks) + len(refusals) < per_minute + 3:
        frame = await client.next()
        if frame["type"] == "ack":
            acks.append(frame["id"])
        elif frame["type"] == "refused":
            refusals.append(frame)
    assert acks == [f"f{n}" for n in range(per_minute)]
    assert [r["id"] for r in refusals] == [f"f{n}" for n in range(per_minute, per_minute + 3)]
    assert all(r["reason"] == "too_fast" and r["retry_after"] >= 1 for r in refusals)
    assert refusals[0]["text"] == content.t("webchat.ui.too_fast", "en", seconds=refusals[0]["retry_after"])
    await client.quiet()
    # every acknowledged message was handled, nothing refused was stored
    stored = await person_messages(chat)
    assert [s for s in stored if s.startswith("message number")] == [
        f"message number {n}" for n in range(per_minute)
    ]
    assert "x" * (limit + 1) not in stored

    # a frame larger than the socket takes closes it with "message too big"
    await client.ws.send_str("y" * (chat.channel.max_frame + 10))
    closing = await client.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert client.ws.close_code == 1009


async def test_bad_frames_are_answered(chat: Chat) -> None:
    client, _ = await open_session(chat)
    await client.ws.send_str("not json")
    assert (await client.next())["reason"] == "invalid"
    await client.send(type="button", data="", id="x1")
    refused = await client.next()
    assert refused["reason"] == "invalid" and refused["id"] == "x1"
    await client.send(type="shout", text="hi")
    assert (await client.next())["reason"] == "invalid"
    # a socket that does not say hello first is closed
    silent = await chat.connect()
    await silent.send(type="text", text="hi")
    closing = await silent.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert silent.ws.close_code == 1008


async def test_too_many_sockets_from_one_address(chat: Chat) -> None:
    limit = chat.app.settings.webchat_connections_per_address
    clients = []
    for _ in range(limit):
        client = await chat.connect()
        await client.hello()
        clients.append(client)
    extra = await chat.connect()
    await extra.send(type="hello", session=None, lang="ru")
    refused = await extra.next()
    assert refused["reason"] == "too_many_connections"
    assert refused["text"] == chat.content.t("webchat.ui.too_many_connections", "ru")
    closing = await extra.ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert extra.ws.close_code == 1008
    # one closes: there is room again
    await clients[0].close()
    await asyncio.sleep(0.1)
    another = await chat.connect()
    assert (await another.hello())["type"] == "session"


async def test_a_message_sent_again_is_handled_once(chat: Chat) -> None:
    client, token = await open_session(chat)
    await client.say("Dostlarım yoxdur, çox tənhayam", "same-id")
    first = await client.messages(1) + await client.quiet()
    assert first
    await client.close()
    # the browser did not see the acknowledgement and sends it again after reconnecting
    again = await chat.connect()
    assert (await again.hello(session=token))["new"] is False
    await again.say("Dostlarım yoxdur, çox tənhayam", "same-id")
    assert await again.quiet() == []
    assert (await person_messages(chat)).count("Dostlarım yoxdur, çox tənhayam") == 1


async def test_a_message_that_failed_is_kept_and_replayed(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, content = chat.app, chat.content
    client, _ = await open_session(chat)
    real = app.engine.handle
    failures = {"left": 1}

    async def failing(inbound):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database away")
        return await real(inbound)

    monkeypatch.setattr(app.engine, "handle", failing)
    await client.say("Məktəbdə problemim var", "r1")
    told = (await client.messages(1))[0]
    assert told["text"] == content.t("error.internal", "az")
    # the replay loop handles it a moment later, and the answer arrives
    answer = await client.messages(1, timeout=20)  # PostgreSQL: after the inbox's handling lease (10 s)
    assert answer[0]["kind"] == "bot"
    await client.quiet()
    assert (await person_messages(chat)).count("Məktəbdə problemim var") == 1
    async with app.db.read() as session:
        waiting = await session.scalar(
            select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "received")
        )
    assert waiting == 0


async def test_two_tabs_of_one_session_both_get_messages(chat: Chat) -> None:
    app = chat.app
    first, token = await open_session(chat)
    second = await chat.connect()
    assert (await second.hello(session=token))["new"] is False
    await first.press(Human().encode(), "h1")
    one = await first.messages(1) + await first.quiet()
    two = await second.messages(1) + await second.quiet()
    assert one and texts(one) == texts(two)
    async with app.db.read() as session:
        cases = await session.scalar(select(func.count()).select_from(Case))
    assert cases == 1


async def test_a_returning_browser_gets_its_older_messages_before_newer_ones(chat: Chat) -> None:
    """A counsellor wrote twice while the browser was away: the newer message is not handed out while
    the older one is parked, and when the browser comes back both come, in order."""
    app = chat.app
    client, token = await open_session(chat)
    await client.press(Human().encode(), "h1")
    await client.messages(1)
    await client.quiet()
    case = (await app.desk.queue())[0]
    await app.desk.claim(case.id, COUNSELLOR)
    await client.messages(1)
    await client.close()
    await asyncio.sleep(0.2)
    assert (await app.desk.reply(case.id, COUNSELLOR, "Birinci")).ok
    for _ in range(50):  # parked by the sender
        wait = await app.outbox.next_due_in("webchat")
        if wait is not None and wait > 1:
            break
        await asyncio.sleep(0.05)
    sender_task = chat.channel._loops.tasks[0]  # the sender's loop stops here; the test drives it by hand
    sender_task.cancel()
    await asyncio.gather(sender_task, return_exceptions=True)

    assert (await app.desk.reply(case.id, COUNSELLOR, "İkinci")).ok
    assert await app.outbox.due("webchat", target="person") == []  # it waits behind the parked one
    back = await chat.connect()
    assert (await back.hello(session=token))["new"] is False  # its parked message is due again
    again: list = []
    for _ in range(100):  # the browser's return makes its parked message due (as the hello is answered)
        again = await app.outbox.due("webchat", target="person")
        if again:
            break
        await asyncio.sleep(0.02)
    await chat.channel.sender.deliver(again)
    got = await back.messages(2)  # both come, in order
    assert texts(got) == [app.content.t("relay.prefix", "az", text=t) for t in ("Birinci", "İkinci")]
    assert await app.outbox.pending_count("webchat") == 0
