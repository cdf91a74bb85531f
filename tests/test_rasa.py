"""The Rasa channel end to end: rasa-sdk's real action server on 127.0.0.1 with the helpline's actions,
called with the JSON Rasa posts to /webhook, on SQLite and PostgreSQL; counsellors' replies delivered
to a local stand-in for Rasa's HTTP API (trigger_intent), retried when it fails first."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

if importlib.util.find_spec("rasa_sdk") is None:  # CI installs the extra (make test): there it must run
    if os.environ.get("CI"):
        raise ImportError('the Rasa extra is required in CI: pip install -e ".[dev,rasa]"')
    pytest.skip('the Rasa extra is not installed: pip install -e ".[rasa]"', allow_module_level=True)

from bot.app import App
from bot.channels.rasa.calls import button_payload
from bot.channels.rasa.sender import RasaChannel
from bot.channels.rasa.server import ActionServer
from bot.deliveries import CaseNote, StaffNotice
from bot.domain import StaffMember
from bot.storage.models import Case, InboxEntry, Message, OutboxItem, Person
from tests.rasa_fixtures import TOKEN, Conversation, RasaStandIn

ORDINARY = "Müəllim ev tapşırığını çox verir, vaxtım çatmır"
BULLYING = "Sinif yoldaşlarım hər gün məni ələ salırlar, məktəbə getmək istəmirəm"
URGENT = "yaşamaq istəmirəm"
IMMINENT_RU = "Хочу покончить с собой, таблетки уже купила, сегодня ночью"
COUNSELLOR = StaffMember(id="console:aynur", name="Aynur")

# Rasa 3.6 (the open-source line) talking to rasa-sdk 3.21: rasa-sdk warns, the protocol is the same.
pytestmark = pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk might not be compatible")


class Rasa:
    """Rasa's calls to the action server, as Rasa makes them."""

    def __init__(self, server: ActionServer, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http
        self.url = f"http://127.0.0.1:{server.port}"

    async def post(self, body: Any, raw: bytes | None = None, **headers: str) -> tuple[int, Any]:
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(
            self.url + "/webhook", data=data, headers={"Content-Type": "application/json", **headers}
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def run(self, conversation: Conversation, action: str) -> dict[str, Any]:
        status, result = await self.post(conversation.call(action))
        assert status == 200, result
        conversation.ran(action, result)
        return result


@pytest_asyncio.fixture
async def rasa(app: App) -> AsyncIterator[Rasa]:
    server = ActionServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Rasa(server, http)
    finally:
        await server.stop()


def texts(result: dict[str, Any]) -> list[str]:
    return [r["text"] for r in result["responses"]]


def payloads(result: dict[str, Any]) -> list[str]:
    return [b["payload"] for r in result["responses"] for b in r.get("buttons") or []]


def data_of(payload: str) -> str:
    """The helpline's button data inside a Rasa button payload."""
    assert payload.startswith("/helpline_button{")
    return json.loads(payload[len("/helpline_button") :])["helpline_button"]


def slots(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


async def count(app: App, model: Any, *where: Any) -> int:
    async with app.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def pending_for_people(app: App) -> int:
    return await count(app, OutboxItem, OutboxItem.target == "person", OutboxItem.status == "pending")


# ---- triage ------------------------------------------------------------------------------------------
async def test_an_ordinary_message_is_answered_with_its_category_and_no_case(app: App, rasa: Rasa) -> None:
    content = app.content
    person = Conversation("rasa-user-1").says(ORDINARY)
    result = await rasa.run(person, "action_helpline_triage")

    assert slots(result) == {
        "helpline_risk": "none",
        "helpline_escalate": False,
        "helpline_language": "az",
        "helpline_category": "education",
        "helpline_topics": ["school"],
    }
    said = texts(result)
    answer = "\n\n".join(said)
    assert content.t("welcome.short", "az") in answer and content.t("ack.education", "az") in answer
    # the engine's buttons come back as Rasa buttons whose payload is a helpline_button intent
    assert button_payload("human") in payloads(result)
    assert any(data_of(p).startswith("art:school:") for p in payloads(result))
    assert all(p.startswith('/helpline_button{"helpline_button":') for p in payloads(result))
    # nothing for the counsellors; everything the turn wrote for the person went out as responses
    assert await app.desk.queue() == []
    assert await pending_for_people(app) == 0
    assert await count(app, OutboxItem, OutboxItem.channel == "rasa", OutboxItem.status == "sent") == len(
        said
    )
    # pseudonymous: the sender id is never stored in clear
    async with app.db.read() as session:
        stored = await session.scalar(select(Person))
        assert stored is not None and stored.channel == "rasa" and stored.pseudonym != "rasa-user-1"
        assert "rasa-user-1" not in (stored.address_sealed or "")
        entry = await session.scalar(select(InboxEntry))
        assert entry is not None and entry.status == "done" and entry.payload is None


async def test_an_urgent_message_gets_the_crisis_text_and_a_case_at_the_highest_priority(
    app: App, rasa: Rasa
) -> None:
    content = app.content
    person = Conversation("rasa-user-2").says(URGENT)
    result = await rasa.run(person, "action_helpline_triage")

    assert slots(result)["helpline_risk"] == "urgent" and slots(result)["helpline_escalate"] is True
    assert slots(result)["helpline_topics"] == ["suicide"]
    [crisis] = texts(result)
    assert crisis == content.t("crisis.suicide", "az", "unknown")
    assert "112" in crisis and "116111" in crisis
    assert {button_payload("safe:yes"), button_payload("safe:no")} <= set(payloads(result))

    [case] = await app.desk.queue()
    assert case.channel == "rasa" and case.priority == 3 and case.risk.value == "urgent"
    assert "suicidal_talk" in {s.code for s in case.signals}
    # the counsellors hear about it (the console's staff outbox), with the words that opened it
    async with app.db.read() as session:
        [note] = list(await session.scalars(select(OutboxItem).where(OutboxItem.target == "staff")))
    assert note.kind == CaseNote.kind and note.payload["event"]["event"] == "case_opened"
    assert note.payload["excerpt"] == URGENT

    # "I'm safe" (the safety button) never closes the case
    person.presses(button_payload("safe:yes"))
    pressed = await rasa.run(person, "action_helpline_button")
    assert texts(pressed) == [content.t("crisis.glad_safe", "az", "unknown")]
    assert [c.id for c in await app.desk.queue()] == [case.id]


async def test_an_imminent_message_in_russian_is_answered_in_russian(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-3").says(IMMINENT_RU)
    result = await rasa.run(person, "action_helpline_triage")

    assert slots(result)["helpline_risk"] == "imminent" and slots(result)["helpline_language"] == "ru"
    assert texts(result) == [app.content.t("crisis.suicide_imminent", "ru", "unknown")]
    [case] = await app.desk.queue()
    assert case.priority == 3 and case.risk.value == "imminent"
    assert "means_pills" in {s.code for s in case.signals}


async def test_triage_reads_the_trackers_recent_messages_as_context(app: App, rasa: Rasa) -> None:
    """The assistant answered the first message itself; the helpline sees it only in the tracker."""
    person = Conversation("rasa-user-4").says("yaşamaq istəmirəm artıq")
    person.events += [
        {"event": "bot", "timestamp": 1.0, "text": "Mən buradayam.", "data": {}, "metadata": {}}
    ]
    person.says("ip almışam")
    result = await rasa.run(person, "action_helpline_triage")

    assert slots(result)["helpline_risk"] == "imminent"
    [case] = await app.desk.queue()
    assert case.risk.value == "imminent" and "means_rope" in {s.code for s in case.signals}
    assert any("earlier" in s.evidence for s in case.signals)
    # alone the same words are not imminent
    assert app.engine.triager.analyze("ip almışam").risk.value != "imminent"


async def test_a_call_rasa_repeats_is_handled_once(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-5").says(URGENT)
    body = person.call("action_helpline_triage")
    first_status, first = await rasa.post(body)
    again_status, again = await rasa.post(body)
    assert first_status == again_status == 200
    assert len(texts(first)) == 1 and texts(again) == []
    assert await count(app, Message, Message.sender == "person") == 1
    assert len(await app.desk.queue()) == 1


# ---- handoff, self-help, forget ---------------------------------------------------------------------
async def test_handoff_opens_a_case_and_says_what_happens_next(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-6").says(ORDINARY)
    await rasa.run(person, "action_helpline_triage")
    person.says("insanla danışmaq istəyirəm", intent="ask_human")
    result = await rasa.run(person, "action_helpline_handoff")

    assert texts(result) == [app.content.t("handoff.queued", "az", "unknown")]
    assert slots(result)["helpline_escalate"] is False
    [case] = await app.desk.queue()
    assert case.status.value == "queued" and case.priority == 1 and case.channel == "rasa"
    # asked again: the person hears their place in the queue
    person.says("hələ gözləyirəm", intent="ask_human")
    again = await rasa.run(person, "action_helpline_handoff")
    assert texts(again) == [
        app.content.t(
            "wait.text",
            "az",
            "unknown",
            position=app.content.t("wait.position.next", "az"),
            eta=app.content.t("wait.eta.unknown", "az"),
        )
    ]


async def test_selfhelp_reads_the_article_for_the_topic_step_by_step(app: App, rasa: Rasa) -> None:
    content = app.content
    person = Conversation("rasa-user-7").says("I'm bullied at school every day by my classmates")
    triaged = await rasa.run(person, "action_helpline_triage")
    assert "bullying" in slots(triaged)["helpline_topics"] and slots(triaged)["helpline_language"] == "en"

    person.says("what can I do?")
    first = await rasa.run(person, "action_helpline_selfhelp")
    article = content.articles["bullying"]
    steps = article.steps(article.version_for("unknown"), "en")
    pages = texts(first)
    assert len(pages) == 1 and pages[0].startswith(steps[0][:40])  # in English, from its first step
    # page by page ("Next →") to the end, where the person is asked whether it helped
    result = first
    for _ in range(len(steps)):
        following = [p for p in payloads(result) if data_of(p).startswith("art:bullying:")]
        if not following:
            break
        person.presses(following[0])
        result = await rasa.run(person, "action_helpline_button")
        assert len(texts(result)) == 1 and texts(result)[0] != pages[-1]
        pages.append(texts(result)[0])
    assert button_payload("artfb:bullying:yes") in payloads(result)
    assert all(any(step[:40] in page for page in pages) for step in steps)


async def test_selfhelp_for_a_topic_not_offered_shows_the_topics_to_choose_from(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-8", slots={"helpline_topic": "grief"}).says("bir şey oxumaq istəyirəm")
    result = await rasa.run(person, "action_helpline_selfhelp")
    assert texts(result) == [app.content.t("topics.text", "az")]
    offered = [p for p in payloads(result) if data_of(p).startswith("art:")]
    assert offered
    person.presses(offered[0])  # the person picks a topic from the list: its article opens
    article = app.content.articles[data_of(offered[0]).split(":")[1]]
    opened = await rasa.run(person, "action_helpline_button")
    firsts = [article.steps(version, "az")[0][:20] for version in article.versions]
    assert any(texts(opened)[0].startswith(first) for first in firsts)


async def test_forget_asks_then_deletes_the_person_and_clears_the_slots(app: App, rasa: Rasa) -> None:
    content = app.content
    person = Conversation("rasa-user-9").says(BULLYING)
    await rasa.run(person, "action_helpline_triage")
    person.says("/forget", intent="forget")
    asked = await rasa.run(person, "action_helpline_forget")
    assert texts(asked) == [content.t("forget.confirm", "az", "child")]  # a pupil writes: "sən"
    assert button_payload("forget:yes") in payloads(asked)

    person.presses(button_payload("forget:yes"))
    done = await rasa.run(person, "action_helpline_button")
    assert texts(done) == [content.t("forget.done", "az", "child")]
    assert slots(done) == dict.fromkeys(
        ["helpline_risk", "helpline_category", "helpline_topics", "helpline_escalate", "helpline_language"]
    )
    assert await count(app, Person) == 0
    assert await count(app, Message) == 0
    assert await pending_for_people(app) == 0


# ---- counsellors' replies through Rasa's HTTP API -------------------------------------------------------
@pytest_asyncio.fixture
async def stand_in() -> AsyncIterator[RasaStandIn]:
    server = RasaStandIn()
    await server.start()
    yield server
    await server.stop()


async def test_a_counsellors_reply_reaches_the_person_through_trigger_intent_retried(
    app: App, rasa: Rasa, stand_in: RasaStandIn
) -> None:
    content = app.content
    channel = RasaChannel(
        app, url=stand_in.url, token=TOKEN, output_channel="latest", grace=0.3, poll=0.05, backoff_base=0.05
    )
    await channel.start()
    try:
        person = Conversation("telegram:7001/ü").says(URGENT)  # any sender id: quoted in the path
        await rasa.run(person, "action_helpline_triage")
        [case] = await app.desk.queue()
        # the bot's own answer went back with the action: the sender, polling, has nothing to send
        await asyncio.sleep(0.5)
        assert stand_in.calls == []

        stand_in.fail = [500, 503]  # Rasa is not ready at first
        assert (await app.desk.claim(case.id, COUNSELLOR)).ok
        assert (await app.desk.reply(case.id, COUNSELLOR, text="Salam, mən buradayam. Təhlükəsizsən?")).ok
        channel.wake()
        joined, reply = await stand_in.wait_for(2)
        for _ in range(1000):  # Rasa has answered: the sender records it
            if await pending_for_people(app) == 0:
                break
            await asyncio.sleep(0.02)
        assert await pending_for_people(app) == 0
    finally:
        await channel.stop()

    assert len(stand_in.calls) == 4  # two refused, then both in order
    for call in (joined, reply):
        assert call.conversation_id == "telegram:7001/ü"
        assert call.query == {"output_channel": "latest", "include_events": "NONE", "token": TOKEN}
        assert call.body["name"] == "EXTERNAL_helpline_counsellor_message"
    assert joined.text == content.t("relay.joined", "az", "unknown")
    assert reply.text == content.t("relay.prefix", "az", text="Salam, mən buradayam. Təhlükəsizsən?")
    assert channel.sender.stats["retried"] == 2
    async with app.db.read() as session:
        sent = list(await session.scalars(select(OutboxItem).where(OutboxItem.channel == "rasa")))
    assert all(item.status == "sent" and item.address_sealed is None for item in sent)
    assert sum(1 for item in sent if (item.result or {}).get("status") == 200) == 2


async def test_a_reply_waiting_while_rasa_was_away_comes_with_the_next_action(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-10").says(URGENT)
    await rasa.run(person, "action_helpline_triage")
    [case] = await app.desk.queue()
    await app.desk.claim(case.id, COUNSELLOR)
    await app.desk.reply(case.id, COUNSELLOR, text="Buradayam")
    person.says("kimsə var?")
    result = await rasa.run(person, "action_helpline_triage")
    assert texts(result)[:2] == [
        app.content.t("relay.joined", "az", "unknown"),
        app.content.t("relay.prefix", "az", text="Buradayam"),
    ]
    assert await pending_for_people(app) == 0


async def test_the_counsellors_are_told_when_rasa_never_takes_a_message(
    sqlite_app: App, stand_in: RasaStandIn
) -> None:
    app = sqlite_app
    object.__setattr__(app.settings, "outbox_max_attempts", 2)
    turns_server = ActionServer(app, "127.0.0.1", 0)
    await turns_server.start()
    channel = RasaChannel(app, url=stand_in.url, token="wrong", grace=0.0, poll=0.05, backoff_base=0.02)
    try:
        async with aiohttp.ClientSession() as http:
            rasa = Rasa(turns_server, http)
            person = Conversation("rasa-user-11").says(URGENT)
            await rasa.run(person, "action_helpline_triage")
        [case] = await app.desk.queue()
        await app.desk.claim(case.id, COUNSELLOR)
        for _ in range(40):
            await channel.sender.round()
            if channel.sender.stats["dead"]:
                break
            await asyncio.sleep(0.05)
    finally:
        await channel.stop()
        await turns_server.stop()
    assert channel.sender.stats["dead"] == 1 and len(stand_in.calls) == 2
    notices = await app.outbox.due("console", target="staff")
    texts_ = [n.payload.text for n in notices if isinstance(n.payload, StaffNotice)]
    assert texts_ == [app.content.t("rasa.undeliverable", "az", case=case.id)]


# ---- bad requests ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "error", "action"),
    [
        (b"not json", "Invalid body request", None),
        (b"[1, 2]", "the body must be a JSON object", None),
        (b'{"tracker": {"sender_id": "x"}}', '"next_action" must be the name of an action', None),
        (
            b'{"next_action": "action_helpline_triage"}',
            '"tracker" must be an object',
            "action_helpline_triage",
        ),
    ],
)
async def test_malformed_bodies_get_rasa_sdks_error_and_nothing_is_stored(
    app: App, rasa: Rasa, body: bytes, error: str, action: str | None
) -> None:
    status, answer = await rasa.post(None, raw=body)
    assert status == 400 and answer == {"error": error, "action_name": action}
    assert await count(app, InboxEntry) == 0 and await count(app, Person) == 0


def _broken(change: str) -> dict[str, Any]:
    body = Conversation("rasa-user-12").says(URGENT).call("action_helpline_triage")
    tracker = body["tracker"]
    if change == "sender":
        tracker["sender_id"] = ""
    elif change == "events":
        tracker["events"] = {"not": "a list"}
    elif change == "text":
        tracker["latest_message"]["text"] = ["not", "text"]
    elif change == "button":
        tracker["latest_message"].update(
            text="/helpline_button", intent={"name": "helpline_button"}, entities=[]
        )
    return body


@pytest.mark.parametrize("change", ["sender", "events", "text", "button"])
async def test_calls_the_actions_cannot_use_are_refused_and_nothing_is_stored(
    app: App, rasa: Rasa, change: str
) -> None:
    status, answer = await rasa.post(_broken(change))
    assert status == 400 and answer["action_name"] == "action_helpline_triage" and answer["error"]
    assert await count(app, InboxEntry) == 0 and await count(app, Person) == 0
    assert await count(app, Case) == 0


async def test_unknown_action_and_health_are_rasa_sdks_own(app: App, rasa: Rasa) -> None:
    status, answer = await rasa.post(Conversation("rasa-user-13").says("salam").call("action_nope"))
    assert status == 404 and answer["action_name"] == "action_nope"
    async with rasa.http.get(rasa.url + "/health") as resp:
        assert resp.status == 200 and await resp.json() == {"status": "ok"}
    async with rasa.http.get(rasa.url + "/actions") as resp:
        names = {a["name"] for a in await resp.json()}
    assert {"action_helpline_triage", "action_helpline_handoff", "action_helpline_selfhelp"} <= names
    assert {"action_helpline_forget", "action_helpline_button", "action_helpline_relay"} <= names


async def test_a_deflated_call_is_understood(app: App, rasa: Rasa) -> None:
    body = Conversation("rasa-user-14").says(ORDINARY).call("action_helpline_triage")
    status, answer = await rasa.post(
        None, raw=zlib.compress(json.dumps(body).encode()), **{"Content-Encoding": "deflate"}
    )
    assert status == 200 and answer["responses"]


async def test_the_relay_action_shows_what_the_external_event_carries(app: App, rasa: Rasa) -> None:
    person = Conversation("rasa-user-15").says(
        "EXTERNAL: counsellor",
        intent="EXTERNAL_helpline_counsellor_message",
        entities=[
            {"entity": "helpline_message", "value": "👤 Counsellor:\nHi"},
            {
                "entity": "helpline_buttons",
                "value": [{"title": "Yes", "payload": button_payload("fb:yes:1")}],
            },
        ],
    )
    result = await rasa.run(person, "action_helpline_relay")
    assert texts(result) == ["👤 Counsellor:\nHi"] and payloads(result) == [button_payload("fb:yes:1")]
    assert result["events"] == [] and await count(app, Person) == 0


async def test_actions_and_the_sender_at_once_send_each_message_exactly_once(
    app: App, rasa: Rasa, stand_in: RasaStandIn
) -> None:
    """People write while counsellors answer and the sender polls all the time: every message for a
    person leaves once, either in an action's response or through trigger_intent, never both."""
    channel = RasaChannel(app, url=stand_in.url, token=TOKEN, grace=0.3, poll=0.01, backoff_base=0.05)
    await channel.start()
    responses = 0
    try:
        people = [Conversation(f"rasa-race-{i}").says(URGENT) for i in range(4)]
        results = await asyncio.gather(*(rasa.run(p, "action_helpline_triage") for p in people))
        responses += sum(len(r["responses"]) for r in results)
        cases = await app.desk.queue()
        assert len(cases) == 4

        async def counsellor(case_id: int) -> None:
            await app.desk.claim(case_id, COUNSELLOR)
            for n in range(3):
                await app.desk.reply(case_id, COUNSELLOR, text=f"cavab {n}")
                channel.wake()
                await asyncio.sleep(0.01)

        async def person(conversation: Conversation) -> int:
            said = 0
            for text in ("hələ buradayam", "kimsə var?", "qorxuram"):
                conversation.says(text)
                said += len((await rasa.run(conversation, "action_helpline_triage"))["responses"])
            return said

        done = await asyncio.gather(*(counsellor(c.id) for c in cases), *(person(p) for p in people))
        responses += sum(n for n in done if isinstance(n, int))
        for _ in range(1000):
            if await pending_for_people(app) == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        await channel.stop()

    async with app.db.read() as session:
        items = list(await session.scalars(select(OutboxItem).where(OutboxItem.target == "person")))
    assert items and all(item.status == "sent" for item in items)
    by_action = [i for i in items if (i.result or {}).get("via") == "action"]
    by_rasa = [i for i in items if (i.result or {}).get("status") == 200]
    assert len(by_action) + len(by_rasa) == len(items)
    assert responses == len(by_action)
    assert len(stand_in.accepted) == len(by_rasa)
    # every counsellor's words reached their person exactly once
    relays = [c.text for c in stand_in.accepted if "cavab" in c.text]
    relays += [e["text"] for p in people for e in p.events if e["event"] == "bot" and "cavab" in e["text"]]
    assert sorted(relays) == sorted(
        app.content.t("relay.prefix", "az", text=f"cavab {n}") for n in range(3) for _ in range(4)
    )
