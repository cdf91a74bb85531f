"""Small parts on their own: button payloads, outbox payloads, the pacing limiter, text splitting and
the staff chat's card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import payloads
from bot.channels.telegram import cards
from bot.channels.telegram.delivery import Limiter
from bot.channels.telegram.options import Window
from bot.channels.telegram.render import MAX_TEXT, split_text
from bot.deliveries import CaseNote, MediaToPerson, Reminder, StaffNotice, ToPerson, Withdraw, decode, encode
from bot.domain import Button, CaseStatus, Reply, Risk, Signal, StaffMember
from bot.staff import CaseView
from bot.texts import Content

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


# ---- button payloads ----
@pytest.mark.parametrize(
    "payload",
    [
        payloads.Menu(),
        payloads.Human(),
        payloads.SetLanguage("ru"),
        payloads.Who("child"),
        payloads.Gender("skip"),
        payloads.ArticleStep("loneliness", 1),
        payloads.ArticleFeedback("grief", False),
        payloads.Safety(True),
        payloads.ForgetAnswer("wait"),
        payloads.CaseFeedback(False, 123456789),
    ],
)
def test_payloads_round_trip(payload: payloads.Payload) -> None:
    data = payload.encode()
    assert len(data.encode()) <= payloads.MAX_BYTES and payloads.decode(data) == payload


@pytest.mark.parametrize(
    "data",
    [
        "",
        "nope",
        "lang:zz",
        "who:maybe",
        "art:x",
        "art:x:-1",
        "art:x:١",
        "safe:perhaps",
        "fb:yes:1e3",
        "fb:yes:99999999999999999999",
        "forget:now",
        "menu:extra",
        "x" * 65,
    ],
)
def test_anything_else_is_not_a_payload(data: str) -> None:
    assert payloads.decode(data) is None


def test_a_too_long_payload_is_refused_when_made() -> None:
    with pytest.raises(ValueError):
        payloads.ArticleStep("a" * 70, 1).encode()


# ---- outbox payloads ----
@pytest.mark.parametrize(
    "payload",
    [
        ToPerson.of(Reply("salam", ((Button("Menyu", "menu"),),))),
        ToPerson.of(Reply("👤 Məsləhətçi:\nsalam", kind="relay")),
        MediaToPerson(media="photo", label="👤", caption="", media_ref={"from_chat_id": -1, "message_id": 5}),
        CaseNote(event={"event": "case_updated", "case": 3, "priority": 3}, excerpt="..."),
        Reminder(case=3, priority=3, risk="imminent"),
        StaffNotice(text="x", html=True, reply_to=4, thread_id=9),
        Withdraw(cases=[1, 2]),
    ],
)
def test_outbox_payloads_round_trip(payload) -> None:
    kind, data = encode(payload)
    assert decode(kind, data) == payload


def test_outbox_payloads_read_old_rows_and_refuse_unknown_kinds() -> None:
    assert decode("relay", {"text": "salam", "buttons": [], "extra": 1}) == ToPerson("salam", [], relay=True)
    with pytest.raises(ValueError):
        decode("telepathy", {})


# ---- pacing ----
def test_the_limiter_allows_a_burst_then_waits_for_the_window() -> None:
    limiter = Limiter(Window(3, 3.0), margin=0.05)
    for t in (0.0, 0.1, 0.2):
        assert limiter.wait(t) == 0.0
        limiter.record(t)
    assert limiter.wait(0.3) == pytest.approx(2.75)  # until the first falls out of the window
    assert limiter.wait(3.06) == 0.0


# ---- splitting long texts ----
def test_split_text_cuts_at_lines_then_spaces_and_keeps_everything() -> None:
    text = ("Birinci abzas. " * 200) + "\n" + ("İkinci abzas, çox uzun söz " * 200)
    parts = split_text(text)
    assert all(0 < len(p) <= MAX_TEXT for p in parts) and len(parts) >= 2
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]  # no space at all: a hard cut
    assert split_text("") == []


# ---- the case card ----
def view(**kw) -> CaseView:
    values = dict(
        id=7, status=CaseStatus.QUEUED, priority=3, risk=Risk.IMMINENT, category="psychological",
        topics=("suicide",), signals=(Signal("x", Risk.IMMINENT, "has a plan", "<b>ev</b>"),),
        audience="child", gender=None, language="az", channel="messenger", created_at=NOW,
        waiting_since=NOW - timedelta(minutes=4), claimed_at=None, closed_at=None, assignee_id=None,
        assignee_name=None, outcome=None, person_left=False, reviewed=False,
        last_messages=(("person", "<script>alert(1)</script>"),), person_id=1,
    )  # fmt: skip
    values.update(kw)
    return CaseView(**values)


def test_the_card_speaks_the_staff_language_and_escapes_what_people_wrote(content: Content) -> None:
    for lang in ("az", "ru", "en"):
        text = cards.card_text(content, view(), lang, NOW, forum=True)
        assert text.startswith("<b>#7")
        assert content.t("staff.risk.imminent", lang) in text
        assert (
            content.t("staff.status.queued", lang) in text or content.t("tg.card.status.queued", lang) in text
        )
        assert content.t("staff.channel.messenger", lang) in text
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert content.t("tg.card.waiting", lang, minutes=4) in text


def test_the_card_buttons_follow_the_lifecycle(content: Content) -> None:
    def markup(**kw):
        m = cards.card_markup(content, view(**kw), "az")
        return [b.callback_data for row in m.inline_keyboard for b in row] if m else []

    assert markup() == ["claim:7"]  # an unclaimed crisis: claim, never close
    assert markup(risk=Risk.NONE, priority=1) == ["claim:7", "close:7"]
    assert markup(status=CaseStatus.CLAIMED, assignee_name="A") == ["release:7", "close:7"]
    assert markup(status=CaseStatus.CLOSED) == []


def test_the_alert_quotes_and_mentions_only_telegram_counsellors(content: Content) -> None:
    on_duty = [StaffMember("telegram:501", "Aynur <A>"), StaffMember("console:leyla", "Leyla")]
    text = cards.raised_text(content, view(), "az", Risk.URGENT, "həbləri <yığmışam>", on_duty)
    assert "<blockquote>həbləri &lt;yığmışam&gt;</blockquote>" in text
    assert '<a href="tg://user?id=501">Aynur &lt;A&gt;</a>' in text and "Leyla" not in text


async def test_ordered_work_keeps_each_keys_order_and_runs_keys_side_by_side() -> None:
    import asyncio

    from bot.channels.ordered import OrderedWork

    started: list[tuple[str, int]] = []
    finished: list[tuple[str, int]] = []
    release = asyncio.Event()

    async def handle(item: tuple[str, int]) -> None:
        started.append(item)
        if item == ("a", 1):
            await release.wait()  # a's first message is slow
        finished.append(item)

    work: OrderedWork[tuple[str, int]] = OrderedWork(handle, lambda item: item, 4, "test")
    for item in (("a", 1), ("a", 2), ("b", 1), ("b", 2)):
        work.add(item[0], item)
    assert work.inflight == {("a", 1), ("a", 2), ("b", 1), ("b", 2)}
    assert not await work.drain(0.05)  # a is still busy ...
    assert finished == [("b", 1), ("b", 2)]  # ... b went on meanwhile
    assert ("a", 2) not in started  # and a's second waits for its first
    release.set()
    assert await work.drain(1.0)
    assert finished == [("b", 1), ("b", 2), ("a", 1), ("a", 2)]
    assert work.inflight == set() and work.pending == 0


async def test_loops_stop_even_a_loop_that_swallows_a_cancellation() -> None:
    """Python 3.11's wait_for can lose a cancellation; stopping must not hang on such a loop."""
    import asyncio

    from bot.jobs import Health, Loops

    swallowed = []

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed.append(True)  # lost, as a racing wait_for can lose it
        await asyncio.sleep(3600)

    health = Health()
    loops = Loops(health)
    loops.spawn("stubborn", stubborn, 60.0)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(loops.stop(patience=5.0), 5.0)
    assert swallowed == [True] and loops.tasks == []
