# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Delivery on Messenger and Instagram against the local Graph API server: Meta's rate limits and
server errors are retried from the outbox with nothing lost and each person's order kept; a message
never overtakes an older one waiting for a retry (also one from before a restart); a new sender takes
back what a stopped one held; long texts, quick replies and button templates in Meta's limits; a
database outage while handling an event."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.deliveries import ToPerson
from bot.domain import Inbound
from bot.storage.models import InboxEntry, OutboxItem, Person
from tests.graphapi.fixtures import MS, ms, tg_content, tg_triager  # noqa: F401

PEOPLE = ["6024913827462910", "6024913827462911", "6024913827462912"]
WORDS = ["Salam", "imtahandan qorxuram", "dostum yoxdur", "evdə dava var"]


async def person_items(ms: MS) -> dict[str, list[OutboxItem]]:
    """Each person's outbox items, in the order the core wrote them."""
    async with ms.app.sessions() as session:
        people = {p.id: ms.app.pseudo.unseal(p.address_sealed) for p in await session.scalars(select(Person))}
        rows = list(
            await session.scalars(
                select(OutboxItem).where(OutboxItem.target == "person").order_by(OutboxItem.id)
            )
        )
    found: dict[str, list[OutboxItem]] = {}
    for row in rows:
        found.setdefault(str(people[row.person_id]), []).append(row)
    return found


async def assert_all_sent_in_order(ms: MS) -> None:
    for psid, rows in (await person_items(ms)).items():
        assert all(r.status == "sent" for r in rows), [(r.id, r.status, r.last_error) for r in rows]
        assert ms.graph.texts_to(psid) == [r.payload["text"] for r in rows]


async def conversation(ms: MS) -> None:
    for words in WORDS:
        for psid in PEOPLE:
            await ms.say(psid, words)


async def test_rate_limits_pause_every_send_and_nothing_is_lost_or_reordered(ms: MS) -> None:
    graph = ms.graph
    graph.rate_limit(2, code=613)  # "Calls to this API have exceeded the rate limit"
    graph.rate_limit(1, code=32, status=400)
    await conversation(ms)
    await ms.idle(timeout=40)
    await assert_all_sent_in_order(ms)
    assert len(graph.sent_messages) == len(graph.calls) - 3
    assert ms.channel.sender.stats["retried"] >= 3
    # Meta's hint is kept: after a 429 with Retry-After no new call starts for the whole Page
    psid = PEOPLE[0]
    graph.rate_limit(1, code=4, status=429, retry_after=0.6)
    first = len(graph.calls)
    await ms.say(psid, "Salam yenə")
    await ms.idle(timeout=20)
    limited_at = graph.call_times[first]
    assert all(t - limited_at >= 0.55 for t in graph.call_times[first + 1 :])
    await assert_all_sent_in_order(ms)


async def test_a_usage_header_and_other_rate_limit_codes_are_understood(ms: MS) -> None:
    from bot.channels.messenger.graph import GraphError, classify, wait_hint

    for code in (4, 17, 32, 613):
        assert classify(400, {"code": code}) == "rate_limit"
    assert classify(429, None) == "rate_limit"
    usage = '{"104857600000001": [{"type": "messenger", "estimated_time_to_regain_access": 3}]}'
    assert wait_hint({"X-Business-Use-Case-Usage": usage}) == 180.0
    assert classify(500, {"code": 1200}) == "unavailable" and classify(502, None) == "unavailable"
    assert classify(400, {"code": 551, "error_subcode": 1545041}) == "unreachable"
    assert classify(400, {"code": 10, "error_subcode": 2018278}) == "window"
    assert classify(400, {"code": 190}) == "auth" and classify(400, {"code": 100}) == "refused"
    assert "code 613" in str(GraphError("rate_limit", 400, 613))
    ms.graph.rate_limit(1, code=17, usage_minutes=0)  # a header without a wait: backoff
    await ms.say(PEOPLE[0], "Salam")
    await ms.idle()
    await assert_all_sent_in_order(ms)


async def test_server_errors_are_retried_with_backoff_for_that_person(ms: MS) -> None:
    graph = ms.graph
    graph.fail_next(3, status=500)
    graph.fail_next(2, status=502, html=True)  # a proxy's error page instead of JSON
    await conversation(ms)
    await ms.idle(timeout=40)
    await assert_all_sent_in_order(ms)
    assert len(graph.calls) == len(graph.sent_messages) + 5


async def test_a_message_never_overtakes_an_older_one_waiting_for_a_retry(ms: MS) -> None:
    """An older item waits for its retry (as after an error before a restart): the newer one waits too."""
    psid = PEOPLE[0]
    await ms.say(psid, "Salam")
    await ms.idle()
    before = len(ms.graph.sent(psid))
    async with ms.app.db.write() as session:
        person = await session.scalar(select(Person))
        assert person is not None
        now = ms.channel.clock()
        common = {"channel": "messenger", "target": "person", "kind": "text", "person_id": person.id,
                  "address_sealed": person.address_sealed, "created_at": now}  # fmt: skip
        later = now + timedelta(seconds=1.5)
        older = OutboxItem(**common, payload={"text": "birinci"}, next_attempt_at=later, attempts=1)
        newer = OutboxItem(**common, payload={"text": "ikinci"}, next_attempt_at=now)
        session.add_all([older, newer])
    ms.channel.wake()
    await asyncio.sleep(0.6)
    assert len(ms.graph.sent(psid)) == before  # "ikinci" waits behind "birinci"
    await ms.idle(timeout=10)
    assert ms.graph.texts_to(psid)[before:] == ["birinci", "ikinci"]


async def test_a_new_sender_takes_back_what_a_stopped_one_held(ms: MS) -> None:
    psid = PEOPLE[0]
    ms.graph.user(psid)
    await ms.channel.stop()  # the old sender is gone ...
    await ms.app.outbox.enqueue_person("messenger", psid, ToPerson(text="Salam"))
    held = await ms.app.outbox.due("messenger", target="person")  # ... and had leased this (60 s)
    assert [h.payload.text for h in held] == ["Salam"]  # type: ignore[union-attr]
    from bot.channels.messenger import MessengerChannel
    from tests.graphapi.fixtures import FAST

    ms.channel = MessengerChannel(ms.app, base_url=ms.graph.base_url, options=FAST)
    await ms.channel.start()
    await ms.graph.wait_for_sent(psid, timeout=5)  # long before the lease would run out
    assert ms.graph.texts_to(psid) == ["Salam"]


async def test_long_texts_are_split_at_sentences_and_buttons_fit_metas_limits(ms: MS) -> None:
    psid, igsid = PEOPLE[0], "17849230000000042"
    ms.graph.user(psid)
    ms.graph.user(igsid, "instagram")
    sentence = "Səni eşidirəm və burada səninləyəm. "
    long = (sentence * 150).strip()  # about 5,300 characters
    buttons = [[{"text": "👤 Məsləhətçi ilə danışmaq", "data": "human"}]]
    await ms.app.outbox.enqueue_person("messenger", psid, ToPerson(text=long, buttons=buttons))
    await ms.app.outbox.enqueue_person("instagram", igsid, ToPerson(text=long, buttons=buttons))
    await ms.idle()
    for recipient, limit in ((psid, 2000), (igsid, 1000)):
        parts = ms.graph.sent(recipient)
        assert len(parts) >= 3
        measure = (
            (lambda t: len(t.encode("utf-16-le")) // 2) if limit == 2000 else (lambda t: len(t.encode()))
        )
        assert all(measure(p.text) <= limit for p in parts)
        assert all(p.text.endswith("səninləyəm.") for p in parts)  # cut at sentence ends only
        assert " ".join(p.text for p in parts) == long
        assert [p.choices for p in parts] == [[]] * (len(parts) - 1) + [[("👤 Məsləhətçi", "human")]]


async def test_buttons_of_a_message_followed_by_more_stay_in_a_button_template(ms: MS) -> None:
    psid = PEOPLE[0]
    await ms.say(psid, "evdə dava var")
    await ms.idle()
    before = len(ms.graph.sent(psid))
    # after a second answer the bot asks, once, who is writing: two messages, both with buttons
    await ms.say(psid, "imtahandan qorxuram")
    await ms.idle()
    answer, who = ms.graph.sent(psid)[before:]
    assert answer.template is not None and answer.quick_replies == []  # more followed: it stays
    assert answer.payloads[-1] == "human" and len(answer.payloads) == 2
    assert who.template is None and who.payloads == ["who:child", "who:adult", "who:skip", "human"]
    # a tap on a template's button is a postback: it works like any button
    title = dict((p, t) for t, p in answer.choices)["human"]
    await ms.post(ms.graph.postback(psid, title, "human"))
    await ms.idle()
    assert ms.graph.sent(psid)[-1].text == ms.content.t("handoff.queued", "az", "unknown")


async def test_a_database_outage_while_handling_is_retried_and_the_person_hears_where_help_is(ms: MS) -> None:
    app, graph, psid = ms.app, ms.graph, PEOPLE[0]
    real = app.engine.handle
    failures = {"left": 6}

    async def flaky(inbound: Inbound):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is away"))
        return await real(inbound)

    app.engine.handle = flaky  # type: ignore[method-assign]
    await ms.say(psid, "Özümü öldürmək istəyirəm")
    await graph.wait_for_sent(psid)
    assert graph.texts_to(psid)[0] == app.content.t("error.internal", "az")  # straight, without the database
    await graph.wait_for(lambda: any("112" in t for t in graph.texts_to(psid)[1:]), what="the crisis answer")
    await ms.idle()
    async with app.sessions() as session:
        assert set(await session.scalars(select(InboxEntry.status))) == {"done"}


async def test_when_the_inbox_cannot_be_written_meta_is_told_to_send_again(ms: MS) -> None:
    app, graph, psid = ms.app, ms.graph, PEOPLE[0]
    real = app.inbox.record

    async def away(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database is away"))

    app.inbox.record = away  # type: ignore[method-assign]
    body = graph.envelope([graph.text(psid, "Salam")])
    status, _ = await graph.deliver(ms.url, body)
    assert status == 500
    await graph.wait_for_sent(psid)
    assert graph.texts_to(psid) == [app.content.t("error.internal", "az")]
    app.inbox.record = real  # type: ignore[method-assign]
    status, _ = await graph.deliver(ms.url, body)  # Meta sends it again
    assert status == 200
    await ms.idle()
    assert graph.texts_to(psid)[1] == app.content.t("welcome.intro", "az", "unknown")
