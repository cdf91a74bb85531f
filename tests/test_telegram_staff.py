"""The staff chat: atomic claims, who may act, /queue, reminders for unclaimed urgent cases, /report."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from bot.storage.models import AuditEntry
from tests.telegram_fixtures import TG, callback_from, chat_message
from tests.test_telegram_flow import SUICIDAL, buttons, open_case


async def test_two_counsellors_claim_at_once_one_wins(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    server.staff_presses(501, card.message_id, "claim:1")
    server.staff_presses(502, card.message_id, "claim:1")  # the same getUpdates batch, handled concurrently
    await tg.idle()
    answers = {a.user_id: a for a in server.callback_answers}
    won = [uid for uid, a in answers.items() if a.text == content.t("staff.done.claim", "az", case=1)]
    assert len(won) == 1
    winner = won[0]
    loser = 502 if winner == 501 else 501
    assert answers[loser].text == content.t(
        "staff.refused.already_claimed", "az", case=1, name=f"Staff {winner}"
    )
    assert f"Staff {winner}" in server.message(tg.staff, card.message_id).text
    joined = [t for t in tg.texts_to(42) if t == content.t("relay.joined", "az", "unknown")]
    assert len(joined) == 1
    async with tg.app.sessions() as session:
        claims = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "claim")
        )
    assert claims == 1


async def test_only_members_of_the_staff_chat_can_act(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    server.add_user(600, "Outsider")
    server.set_member(600, "left")
    callback_from(server, 600, tg.staff, card.message_id, "claim:1")
    chat_message(
        server,
        {"id": tg.staff, "type": "supergroup", "title": "Helpline staff", "is_forum": True},
        600,
        "/queue",
    )
    await tg.idle()
    view = await tg.app.desk.case(1)
    assert view is not None and view.status == "queued"
    refusal = [a for a in server.callback_answers if a.user_id == 600]
    assert refusal and refusal[0].text == content.t("tg.staff.not_member", "az")
    assert not any(
        (m.text or "").startswith(content.t("tg.queue.title", "az", count=1)) for m in tg.staff_messages()
    )
    # a counsellor who has left loses the rights once the short cache expires
    server.set_member(503, "member")
    tg.channel.gate.forget(503)
    server.staff_presses(503, card.message_id, "claim:1")
    await tg.idle()
    assert server.callback_answers[-1].text == content.t("staff.done.claim", "az", case=1)


async def test_queue_lists_open_cases_by_priority_then_waiting_time(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    server.user_sends_text(61, "/human")  # a request: lowest priority, waiting longest
    await tg.idle()
    server.user_sends_text(62, "Atam meni döyür")  # urgent
    await tg.idle()
    server.user_sends_text(63, SUICIDAL)  # imminent, newest
    await tg.idle()
    server.staff_sends_text(501, "/queue")
    await tg.idle()
    listing = tg.staff_messages()[-1]
    assert listing.text.startswith(content.t("tg.queue.title", "az", count=3))
    order = [int(n) for n in re.findall(r"^#(\d+)", listing.text, re.MULTILINE)]
    by_case = {v.id: v for v in await tg.app.desk.queue()}
    assert [by_case[n].risk.value for n in order] == ["imminent", "urgent", "none"]
    # in a forum the lines link to the cases' topics
    assert any(e["type"] == "text_link" and "/c/1000000001/" in e["url"] for e in listing.entities)


@pytest.mark.parametrize(
    "tg", [{"settings": {"remind_imminent_seconds": 0.3, "remind_urgent_seconds": 2}}], indirect=True
)
async def test_unclaimed_imminent_case_is_announced_again_until_claimed(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    prefix = content.t("tg.reminder", "az", case=1, risk=content.t("staff.risk.imminent", "az"), minutes=0)[
        :12
    ]

    def reminders() -> list:
        return [m for m in tg.staff_messages(card.thread_id) if (m.text or "").startswith(prefix)]

    await tg.wait(lambda: len(reminders()) >= 2, timeout=10.0, what="two reminders")
    assert buttons(reminders()[0]) == ["claim:1"]
    # a claim from the reminder's button works, and the reminders stop
    server.staff_presses(502, reminders()[-1].message_id, "claim:1")
    await tg.idle()
    count = len(reminders())
    await asyncio.sleep(0.8)
    await tg.idle()
    assert len(reminders()) == count
    assert "Staff 502" in server.message(tg.staff, card.message_id).text


async def test_release_puts_the_case_back_and_close_from_the_card(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    card = await open_case(tg)
    server.staff_presses(501, card.message_id, "claim:1")
    await tg.idle()
    server.staff_presses(502, server.message(tg.staff, card.message_id).message_id, "release:1")
    await tg.idle()
    assert server.callback_answers[-1].text == content.t(
        "staff.refused.not_assignee", "az", case=1, name="Staff 501"
    )
    server.staff_presses(501, card.message_id, "release:1")
    await tg.idle()
    assert buttons(server.message(tg.staff, card.message_id)) == ["claim:1"]
    # an unclaimed crisis case cannot be closed with one tap (a forged or old button is refused)
    server.staff_presses(502, card.message_id, "close:1", strict=False)
    await tg.idle()
    assert server.callback_answers[-1].text == content.t("staff.refused.claim_first", "az", case=1)
    assert (await tg.app.desk.case(1)).status == "queued"
    server.staff_presses(502, card.message_id, "claim:1")
    await tg.idle()
    server.staff_presses(502, card.message_id, "close:1")
    await tg.idle()
    server.staff_presses(502, card.message_id, "out:1:4")  # referred to social services
    await tg.idle()
    assert server.callback_answers[-1].text == content.t("staff.done.close", "az", case=1)
    assert server.topics[card.thread_id].closed
    assert (await tg.app.desk.case(1)).outcome == "social_services"


async def test_report_command_in_the_staff_chat(tg: TG) -> None:
    server, content = tg.server, tg.app.content
    await open_case(tg)
    server.staff_sends_text(501, "/report")
    await tg.idle()
    answer = tg.staff_messages()[-1]
    assert answer.text and answer.text != content.t("tg.report.failed", "az")
    assert "116111" in answer.text and answer.entities[0]["type"] == "pre"  # the table, monospaced
    server.staff_sends_text(501, "/help")
    await tg.idle()
    assert tg.staff_messages()[-1].text == content.t("tg.staff.help", "az")
