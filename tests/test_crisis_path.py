"""The crisis path end to end, through the engine, ``chat --jsonl`` and the staff console: a rise of
risk is heard at once, a waiting person is never left in silence, an unclaimed crisis is never
closed with one tap, /forget never drops a person at risk quietly, and a "no, it did not help" gets
the next step."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App, build_app
from bot.channels.terminal import Console, run_jsonl, run_staff
from bot.domain import CloseOutcome, Inbound, Outcome, StaffMember
from bot.lifecycle import Reason, Refusal
from bot.storage.models import Case, OutboxItem
from tests.conftest import ROOT, SECRET, make_settings

AYNUR = StaffMember("console:aynur", "Aynur")


async def say(app: App, text: str | None = None, user: str = "teen", button: str | None = None) -> Outcome:
    return await app.engine.handle(Inbound(channel="test", user_id=user, text=text, button=button))


def texts(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


def buttons(outcome: Outcome) -> list[str]:
    return [b.data for r in outcome.replies for row in r.buttons for b in row]


async def staff_items(app: App) -> list[OutboxItem]:
    async with app.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxItem).where(OutboxItem.target == "staff").order_by(OutboxItem.id)
            )
        )


async def jsonl(app: App, *lines: dict) -> list[dict]:
    stdin = io.StringIO("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    stdout = io.StringIO()
    assert await run_jsonl(app, stdin, stdout) == 0
    return [json.loads(x) for x in stdout.getvalue().splitlines()]


# ---- a rise of risk inside an open case -------------------------------------------------------------
async def test_a_rise_to_imminent_is_announced_and_answered_at_once(app: App) -> None:
    content = app.content
    first = await say(app, "yaşamaq istəmirəm")
    [opened] = first.events
    assert opened.kind == "case_opened" and opened.risk == "urgent"
    later = await say(app, "həbləri yığmışam")
    [raised] = later.events
    assert raised.kind == "case_updated" and raised.reason == Reason.RISK_RAISED
    assert (raised.previous_risk, raised.risk) == ("urgent", "imminent")
    # the full imminent text, not the short "you are in the queue"
    assert texts(later) == content.t("crisis.suicide_imminent", "az", "unknown")
    assert {"safe:yes", "safe:no"} <= set(buttons(later))
    # the staff side: an alert that quotes the words
    notes = [i for i in await staff_items(app) if i.kind == "case_event"]
    assert notes[-1].payload["excerpt"] == "həbləri yığmışam"
    assert notes[-1].payload["event"]["previous_risk"] == "urgent"


async def test_the_same_rise_in_russian_through_chat_jsonl(sqlite_app: App) -> None:
    out = await jsonl(
        sqlite_app,
        {"user": "r", "text": "не хочу больше жить"},
        {"user": "r", "text": "я наглоталась таблеток"},
    )
    events = [o for o in out if "event" in o]
    assert [e["event"] for e in events] == ["case_opened", "case_updated"]
    assert events[1]["risk"] == "imminent" and events[1]["reason"] == "risk_raised"
    last_reply = [o for o in out if "to" in o][-1]["text"]
    assert last_reply == sqlite_app.content.t("crisis.suicide_imminent", "ru", "unknown")


async def test_while_waiting_every_message_reaches_the_counsellors_and_is_answered(app: App) -> None:
    content = app.content
    # a history of claims: the wait estimate comes from the median time to claim (10 min here)
    other = await say(app, "operatorla danışmaq istəyirəm", user="earlier")
    async with app.sessions() as session, session.begin():
        case = await session.get(Case, other.events[0].case_id)
        case.waiting_since = case.waiting_since - timedelta(minutes=10)
    assert (await app.desk.claim(other.events[0].case_id, AYNUR)).ok
    await say(app, "insanla danışmaq istəyirəm", user="ahead")  # one case ahead in the queue
    await say(app, "insanla danışmaq istəyirəm")
    for question in ("kimsə var?", "is anyone there?", "ne vaxt yazacaq?"):
        out = await say(app, question)
        expected = content.t(
            "wait.text",
            "az" if question != "is anyone there?" else "en",
            "unknown",
            position=content.t(
                "wait.position.ahead", "az" if question != "is anyone there?" else "en", "unknown", ahead=1
            ),
            eta=content.t("wait.eta.minutes", "az" if question != "is anyone there?" else "en", minutes=20),
        )
        assert texts(out) == expected
        assert "112" in texts(out)
    relayed = [i.payload["text"] for i in await staff_items(app) if i.kind == "relay_in"]
    assert relayed == ["kimsə var?", "is anyone there?", "ne vaxt yazacaq?"]


# ---- closing ---------------------------------------------------------------------------------------------
async def test_an_unclaimed_imminent_case_is_not_closed_with_one_tap(app: App) -> None:
    out = await say(app, "bu gecə körpüdən atılacağam, hamıya əlvida")
    case_id = out.events[0].case_id
    refused = await app.desk.close(case_id, AYNUR, CloseOutcome.FALSE_ALARM)
    assert refused.refusal == Refusal.CLAIM_FIRST
    assert (await app.desk.case(case_id)).status == "queued"


def test_the_console_refuses_to_close_an_unclaimed_imminent_case(tmp_path: Path, triager) -> None:
    """``printf 'queue\\nclose 1\\n' | python -m bot staff``"""
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"

    async def seed() -> None:
        app = await build_app(make_settings(url, tmp_path), triager=triager)
        out = await say(app, "bu gecə körpüdən atılacağam, hamıya əlvida")
        assert out.events[0].risk == "imminent"
        await app.close()

    asyncio.run(seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    env.update({"DATA_DIR": str(tmp_path), "PSEUDONYM_SECRET": SECRET, "PYTHONPATH": str(ROOT)})
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "--name", "Aynur", "--lang", "en"],
        input="queue\nclose 1\nclose 1 false_alarm\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "⚠️ IMMINENT" in proc.stdout
    assert proc.stdout.count("#1 is urgent: only the counsellor who claimed it can close it") == 2

    async def check() -> str:
        app = await build_app(make_settings(url, tmp_path), triager=triager)
        view = await app.desk.case(1)
        await app.close()
        return view.status

    assert asyncio.run(check()) == "queued"


async def test_a_no_after_a_closed_crisis_offers_the_next_step(app: App) -> None:
    content = app.content
    out = await say(app, "Özümü öldürmək istəyirəm")
    case_id = out.events[0].case_id
    assert (await app.desk.claim(case_id, AYNUR)).ok
    assert (await app.desk.reply(case_id, AYNUR, text="Salam")).ok
    assert (await app.desk.close(case_id, AYNUR, CloseOutcome.SAFE_NOW)).ok
    no = await say(app, button=f"fb:no:{case_id}")
    assert texts(no) == content.t("close.feedback_sorry_crisis", "az", "unknown")
    assert "112" in texts(no) and "116111" in texts(no) and buttons(no) == ["human"]
    again = await say(app, button="human")
    assert [e.kind for e in again.events] == ["case_opened"]  # a new case in the queue at once


async def test_a_no_after_an_ordinary_case_offers_the_counsellor_again(app: App) -> None:
    out = await say(app, "insanla danışmaq istəyirəm")
    case_id = out.events[0].case_id
    await app.desk.claim(case_id, AYNUR)
    await app.desk.close(case_id, AYNUR, CloseOutcome.ADVICE)
    no = await say(app, button=f"fb:no:{case_id}")
    assert texts(no) == app.content.t("close.feedback_sorry", "az", "unknown") and buttons(no) == ["human"]


async def test_a_crisis_message_and_a_close_at_the_same_moment_never_drop_the_crisis(app: App) -> None:
    """Either the message lands first (the close is refused once: the risk just rose) or the close
    does (the message starts a new case and gets the crisis answer). Never: closed and silent."""
    for trial in range(12):
        user = f"race-{trial}"
        out = await say(app, "insanla danışmaq istəyirəm", user=user)
        case_id = out.events[0].case_id
        assert (await app.desk.claim(case_id, AYNUR)).ok
        message, closing = await asyncio.gather(
            say(app, "bu gecə özümü öldürəcəm, həblər hazırdır", user=user),
            app.desk.close(case_id, AYNUR, CloseOutcome.ADVICE),
        )
        assert "112" in texts(message)  # the person heard the emergency number either way
        async with app.sessions() as session:
            open_cases = list(
                await session.scalars(
                    select(Case).where(Case.status.in_(("queued", "claimed")), Case.risk == "imminent")
                )
            )
        assert any(c.id == case_id or c.id > case_id for c in open_cases), (trial, closing)
        for case in open_cases:  # tidy up for the next trial
            if case.status == "queued":
                await app.desk.claim(case.id, AYNUR)
            await app.desk.reply(case.id, AYNUR, text="ok")
            assert (await app.desk.close(case.id, AYNUR, CloseOutcome.SAFE_NOW)).ok


# ---- /forget during a crisis -------------------------------------------------------------------------------
async def test_forget_during_a_crisis_says_what_it_means_and_keeps_the_case_for_the_staff(app: App) -> None:
    content = app.content
    await say(app, "bu gecə körpüdən atılacağam, hamıya əlvida")
    asked = await say(app, "/forget")
    assert texts(asked) == content.t("forget.confirm_at_risk", "az", "unknown")
    assert buttons(asked) == ["forget:wait", "forget:yes", "forget:no"]
    waited = await say(app, button="forget:wait")
    assert texts(waited) == content.t("forget.waiting", "az", "unknown")
    await say(app, "/forget")
    done = await say(app, button="forget:yes")
    [event] = done.events
    assert event.kind == "case_updated" and event.reason == Reason.PERSON_LEFT
    view = await app.desk.case(event.case_id, messages=10)
    assert view.status == "queued" and view.person_left and view.risk == "imminent"
    assert view.signals and all(not s.evidence for s in view.signals) and view.last_messages == ()
    items = await staff_items(app)
    payloads = [i.payload for i in items]
    assert {"cases": [event.case_id]} in payloads  # the staff side withdraws the person's words
    assert not any(i.kind == "relay_in" for i in items)
    # the console tells the on-call counsellor that a person at risk left
    out = io.StringIO()
    console = Console(app, "Aynur", out, lang="en")
    await console.show_alerts()
    assert f"#{event.case_id} (⚠️ IMMINENT): the writer asked for their data to be deleted" in out.getvalue()
    assert (await app.desk.reply(event.case_id, AYNUR, text="salam")).refusal == Refusal.NOT_CLAIMED
    assert (await app.desk.claim(event.case_id, AYNUR)).ok
    assert (await app.desk.reply(event.case_id, AYNUR, text="salam")).refusal == Refusal.PERSON_GONE
    assert (await app.desk.close(event.case_id, AYNUR, CloseOutcome.UNREACHABLE)).ok


# ---- the console sees what the staff chat sees -------------------------------------------------------------
async def test_the_console_shows_new_cases_rises_and_reminders(tmp_path: Path, content, triager) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    app = await build_app(
        make_settings(url, tmp_path, remind_imminent_seconds=0, remind_urgent_seconds=3600),
        content=content,
        triager=triager,
    )
    try:
        await say(app, "yaşamaq istəmirəm")
        await say(app, "həbləri yığmışam")
        await say(app, "evdə heç kim yoxdur")
        out = io.StringIO()
        script = io.StringIO("queue\nquit\n")
        assert await run_staff(app, "Aynur", stdin=script, stdout=out, lang="en") == 0
        text = out.getvalue()
        assert "🆕 #1 · priority 3" in text
        assert "⚠️ #1: risk rose from URGENT to ⚠️ IMMINENT." in text and "› həbləri yığmışam" in text
        assert "💬 #1 Writer: evdə heç kim yoxdur" in text
        assert "⏰ " + content.t("tg.reminder", "en", case=1, risk="⚠️ IMMINENT", minutes=0) in text
        kinds = [type(i.payload).__name__ for i in await app.outbox.due("console", target="staff")]
        assert kinds == []  # all shown once
    finally:
        await app.close()


async def test_reminders_are_announced_once_even_by_two_processes(app: App) -> None:
    out = await say(app, "bu gecə körpüdən atılacağam, hamıya əlvida")
    case_id = out.events[0].case_id
    async with app.sessions() as session, session.begin():
        case = await session.get(Case, case_id)
        case.waiting_since = case.waiting_since - timedelta(minutes=2)  # waited past its interval
    first, second = await asyncio.gather(app.desk.remind(60, 300), app.desk.remind(60, 300))
    assert sorted(first + second) == [case_id]
    items = [
        i for i in await app.outbox.due(app.settings.staff_channel, target="staff") if i.kind == "reminder"
    ]
    assert len(items) == 1
