"""Nothing lost: deleted topics, 429 storms, a failing Telegram, duplicate updates, crashes and
restarts, floods of /start, Telegram's pacing, blocked users, the webhook, and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.telegram import Pacing, Window
from bot.storage.models import AuditEntry, Case, InboxEntry, OutboxItem, Person
from tests.botapi import FloodLimits
from tests.telegram_fixtures import TG, lift_faults, spawn_bot, tg_session
from tests.test_telegram_flow import SUICIDAL, TEEN, buttons, open_case


async def outbox_rows(tg: TG, **where: Any) -> list[OutboxItem]:
    async with tg.app.sessions() as session:
        query = select(OutboxItem).order_by(OutboxItem.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxItem, key) == value)
        return list(await session.scalars(query))


async def test_deleted_topic_is_recreated_and_the_message_retried(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    old_thread = card.thread_id
    server.delete_topic(old_thread)  # a human deletes the topic; Telegram tells the bot nothing

    server.user_sends_text(TEEN, "Hələ buradasan?")
    await tg.idle()
    new_thread, new_card = await tg.channel.refs.get(1)
    assert new_thread not in (None, old_thread)
    assert not server.topics[new_thread].deleted and "#1" in server.topics[new_thread].name
    in_new = tg.staff_messages(new_thread)
    assert in_new[0].message_id == new_card and "Staff 501" in in_new[0].text
    assert "Hələ buradasan?" in in_new[-1].text
    # the counsellor carries on in the new topic
    server.staff_sends_text(501, "Bəli, buradayam", thread_id=new_thread)
    await tg.idle()
    assert tg.texts_to(TEEN)[-1] == content.t("relay.prefix", "az", text="Bəli, buradayam")
    # editing the card of a deleted topic posts a new card too
    server.delete_topic(new_thread)
    server.staff_presses(501, new_card, "out:1:0", strict=False)  # the outcome, from the card
    await tg.idle()
    final = await tg.app.desk.case(1)
    assert final is not None and final.status == "closed"
    assert (await tg.channel.refs.get(1))[0] not in (old_thread, new_thread)


async def test_429_storm_pauses_only_that_chat_and_keeps_the_order(tg: TG) -> None:
    server = tg.server
    server.rate_limit(2, retry_after=1, chat_id=TEEN)
    server.user_sends_text(TEEN, "salam")
    server.user_sends_text(TEEN, "imtahandan çox qorxuram")
    await tg.wait(lambda: len(server.errors) >= 1, what="the first 429")
    server.user_sends_text(43, "salam")
    [other] = await server.wait_for_sent(chat_id=43, timeout=20.0)
    await tg.idle()
    rejected = [c for c in server.calls if c.status == 429]
    assert len(rejected) == 2
    first_ok = next(
        c for c in server.calls if c.ok and c.params.get("chat_id") == TEEN and c.method == "sendMessage"
    )
    assert first_ok.at - rejected[0].at >= 0.95  # retry_after was waited for
    reply_43 = next(c for c in server.calls if c.message is other)
    assert reply_43.seq < first_ok.seq  # the other chat was not held up by the pause
    # every reply went out once, in the order the engine wrote them
    rows = [r for r in await outbox_rows(tg, target="person") if r.status == "sent"]
    assert all(r.address_sealed is None for r in rows)  # a delivered row keeps no address
    async with tg.app.sessions() as session:
        teen = await session.scalar(
            select(Person.id).where(Person.pseudonym == tg.app.pseudo.pseudonym("telegram", str(TEEN)))
        )
    to_teen = [r for r in rows if r.person_id == teen]
    ids = [r.result["message_id"] for r in to_teen]
    assert ids == sorted(ids) and len(ids) == len(tg.to_user(TEEN))


async def test_card_reaches_the_staff_chat_while_telegram_fails_for_a_while(tg: TG) -> None:
    server = tg.server
    server.fail_next("*", n=10, status=500)
    server.user_sends_text(TEEN, SUICIDAL)
    card = await tg.case_card()
    await tg.idle()
    assert "#1" in card.text
    assert any(c.status == 500 for c in server.calls)
    retried = [r for r in await outbox_rows(tg) if r.attempts > 1]
    assert retried and all(r.status == "sent" for r in await outbox_rows(tg))
    # Telegram down altogether (connections dropped), getUpdates included, then back
    server.set_down(True, mode="close")
    server.user_sends_text(44, "salam")
    await asyncio.sleep(0.8)
    assert tg.to_user(44) == []
    server.set_down(False)
    await server.wait_for_sent(chat_id=44, timeout=20.0)


async def test_the_same_update_delivered_twice_is_handled_once(tg: TG) -> None:
    server = tg.server
    update = server.user_sends_text(TEEN, "salam")
    server.enqueue_raw(update)  # twice in one batch
    await tg.idle()
    replies = len(tg.to_user(TEEN))
    assert replies >= 1
    server.enqueue_raw(update)  # and again after it was handled
    await tg.idle()
    assert len(tg.to_user(TEEN)) == replies
    async with tg.app.sessions() as session:
        rows = list(
            await session.scalars(
                select(InboxEntry).where(InboxEntry.external_id == str(update["update_id"]))
            )
        )
    assert len(rows) == 1 and rows[0].status == "done"
    # a staff button pressed "twice" (the same update) claims once
    card = await open_case(tg, user=45)
    press = server.staff_presses(501, card.message_id, f"claim:{(await tg.app.desk.queue())[0].id}")
    server.enqueue_raw(press)
    await tg.idle()
    async with tg.app.sessions() as session:
        claims = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "claim")
        )
    assert claims == 1 and len(server.callback_answers) == 1


def triage_for_child(tg: TG, request: pytest.FixtureRequest) -> str:
    """The model the session trained, for a bot in a child process: loaded, not retrained."""
    return str(request.getfixturevalue("triage_cache"))


async def all_handled(tg: TG, count: int) -> None:
    statuses: list[str] = []
    for _ in range(400):
        async with tg.app.sessions() as session:
            statuses = list(await session.scalars(select(InboxEntry.status)))
        if len(statuses) == count and set(statuses) == {"done"}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"updates not handled: {statuses}")


@pytest.mark.parametrize("tg", [{"start": False}], indirect=True)
async def test_killed_with_messages_in_the_outbox_delivers_them_after_restart(
    tg: TG, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The bot runs in its own process and is killed (SIGKILL) while Telegram fails; a new one on the
    same database delivers everything, once."""
    server = tg.server
    triage = triage_for_child(tg, request)
    # the killed process holds its items for a whole minute's lease: the next sender takes them back
    # at once (they must arrive well within the test's 20 s, not after 60)
    proc = await spawn_bot(server.base_url, tg.app.settings.database_url, tmp_path, triage, lease=60.0)
    try:
        server.fail_next("*", n=10**6, status=502)  # nothing can be sent
        server.user_sends_text(TEEN, "salam")
        server.user_sends_text(46, SUICIDAL)
        await server.wait_until_consumed(timeout=20.0)
        await all_handled(tg, 2)
        assert await tg.app.outbox.pending_count() >= 3
        await asyncio.sleep(0.3)  # the doomed process keeps trying
        assert server.sent() == []
    finally:
        proc.kill()
        await proc.wait()
    lift_faults(server)

    await tg.channel.start()
    await tg.case_card()
    await tg.idle()
    person_rows = await outbox_rows(tg, target="person")
    assert person_rows and all(r.status == "sent" for r in person_rows)
    people = [m for m in server.sent() if m.chat_id > 0]
    assert len(people) == len(person_rows)  # each exactly once
    cards = [m for m in tg.staff_messages() if buttons(m)[:1] and buttons(m)[0].startswith("claim:")]
    assert len(cards) == 1


@pytest.mark.parametrize("tg", [{"start": False}], indirect=True)
async def test_a_crash_mid_handling_is_resumed_on_restart(
    tg: TG, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Killed after the update was journalled (and confirmed to Telegram) but before it was handled."""
    server = tg.server
    triage = triage_for_child(tg, request)
    proc = await spawn_bot(server.base_url, tg.app.settings.database_url, tmp_path, triage, hang=True)
    try:
        server.user_sends_text(TEEN, SUICIDAL)
        await server.wait_until_consumed(timeout=20.0)  # Telegram is done with it: only our journal has it
        async with tg.app.sessions() as session:
            row = await session.scalar(select(InboxEntry))
        assert row is not None and row.status == "received" and row.payload
    finally:
        proc.kill()
        await proc.wait()

    await tg.channel.start()
    card = await tg.case_card()
    await tg.idle()
    assert "#1" in card.text
    assert "112" in tg.texts_to(TEEN)[0] and len(tg.texts_to(TEEN)) == 1
    async with tg.app.sessions() as session:
        row = await session.scalar(select(InboxEntry))
    assert row is not None and row.status == "done" and row.payload is None


@pytest.mark.parametrize(
    "tg", [{"server": {"enforce_limits": True}, "options": {"pacing": Pacing()}}], indirect=True
)
async def test_a_flood_of_start_opens_nothing_and_holds_up_no_one(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    for _ in range(40):
        server.user_sends_text(TEEN, "/start")
    server.user_sends_text(43, "salam")
    await server.wait_for_sent(chat_id=43, timeout=20.0)
    await tg.idle()
    assert tg.texts_to(TEEN) == [content.t("welcome.intro", "az", "unknown")]
    assert server.topics == {} and tg.staff_messages() == []
    assert server.flood_rejections == []
    async with tg.app.sessions() as session:
        statuses = set(await session.scalars(select(InboxEntry.status)))
        cases = await session.scalar(select(func.count()).select_from(Case).where(Case.status != "bot"))
    assert statuses == {"done"} and cases == 0


SCALE = 60.0  # the server's clock runs 60 times faster: Telegram's minute is a second here


@pytest.mark.parametrize(
    "tg",
    [
        {
            "server": {
                "enforce_limits": True,
                "limits": FloodLimits(),
                "clock": lambda: time.monotonic() * SCALE,
            },
            "options": {
                "pacing": Pacing(
                    private=Window(3, 3.0 / SCALE),
                    group=Window(20, 60.0 / SCALE),
                    overall=Window(30, 1.0 / SCALE),
                    margin=0.05,
                )
            },
        }
    ],
    indirect=True,
)
async def test_pacing_keeps_to_telegrams_limits(tg: TG) -> None:
    server = tg.server
    users = list(range(70, 84))
    for user in users:
        server.user_sends_text(user, SUICIDAL)  # 14 cases: topics, cards and relays for the staff chat
        server.user_sends_text(user, "salam")
        server.user_sends_text(user, "kömək edin")
    await tg.idle(timeout=60.0)
    assert server.flood_rejections == []  # Telegram never had to say 429
    assert server.max_in_window(tg.staff, window=60.0) <= 20
    per_chat = server.max_rate_observed
    assert all(per_chat[user] <= 4 for user in users)  # a burst of three, then one a second
    staff_cards = [m for m in tg.staff_messages() if (m.text or "").startswith("#")]
    assert len(staff_cards) >= len(users)
    # and the limits were really reached (the pacing, not luck, kept them)
    assert server.max_in_window(tg.staff, window=60.0) >= 15


async def test_a_person_who_blocked_the_bot_does_not_hold_up_others(tg: TG) -> None:
    server = tg.server
    card = await open_case(tg)
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    server.user_blocks_bot(TEEN)
    server.staff_sends_text(501, "Buradasan?", thread_id=card.thread_id)
    server.user_sends_text(47, "salam")
    await tg.idle()
    dead = await outbox_rows(tg, status="dead")
    assert len(dead) == 1 and "blocked" in (dead[0].last_error or "")
    assert tg.to_user(47)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WEBHOOK_PORT = free_port()
WEBHOOK = f"http://127.0.0.1:{WEBHOOK_PORT}/telegram/hook"


@pytest.mark.parametrize(
    "tg",
    [
        {
            "settings": {
                "telegram_webhook_url": WEBHOOK,
                "telegram_webhook_secret": "s3cret_Token-1",
                "http_listen": ("127.0.0.1", WEBHOOK_PORT),  # the bot's one HTTP server
            }
        }
    ],
    indirect=True,
)
async def test_webhook_checks_the_secret_and_journals_before_answering(tg: TG) -> None:
    server = tg.server
    assert server.webhook is not None and server.webhook["secret_token"] == "s3cret_Token-1"
    update = server.user_sends_text(TEEN, "salam")
    await server.wait_for_sent(chat_id=TEEN, timeout=20.0)
    await tg.idle()
    replies = len(tg.to_user(TEEN))
    wrong = await server.post_update_to(WEBHOOK, update, secret_token="wrong")
    missing = await server.post_update_to(WEBHOOK, update)
    assert wrong.status == 401 and missing.status == 401
    again = await server.post_update_to(WEBHOOK, update, secret_token="s3cret_Token-1")
    assert again.status == 200
    await tg.idle()
    assert len(tg.to_user(TEEN)) == replies  # a duplicate: handled once


@pytest.mark.postgres
async def test_full_case_on_postgresql(
    tg_pg_url: str, tmp_path: Path, tg_content: Any, tg_triager: Any
) -> None:
    async for env in tg_session(tg_pg_url, tmp_path, tg_content, tg_triager):
        server, content = env.server, env.app.content
        card = await open_case(env)
        server.staff_presses(501, card.message_id, "claim:1")
        server.staff_presses(502, card.message_id, "claim:1")
        await env.idle()
        won = [a for a in server.callback_answers if a.text == content.t("staff.done.claim", "az", case=1)]
        assert len(won) == 1
        winner = won[0].user_id
        server.user_sends_text(TEEN, "Qorxuram")
        server.staff_sends_text(winner, "Buradayam", thread_id=card.thread_id)
        await env.idle()
        assert "Qorxuram" in env.staff_messages(card.thread_id)[-1].text
        assert env.texts_to(TEEN)[-1] == content.t("relay.prefix", "az", text="Buradayam")
        server.staff_presses(winner, card.message_id, "close:1")
        await env.idle()
        server.staff_presses(winner, card.message_id, "out:1:0")
        await env.idle()
        assert server.topics[card.thread_id].closed
        assert all(r.status == "sent" for r in await outbox_rows(env))
