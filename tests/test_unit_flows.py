"""Flows as small functions: a Turn in, replies and events out. No database, no channel, no engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import lifecycle
from bot.domain import Audience, CaseStatus, Category, EventKind, Inbound, Risk, Signal, TriageResult
from bot.flows import route
from bot.flows.base import ConversationState, Profile, QueueInfo, Turn
from bot.storage.models import Case
from bot.texts import Content

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def result(
    risk: Risk = Risk.NONE, category=Category.OTHER, topics=(), language="az", code=""
) -> TriageResult:
    signals = (Signal(code, risk, "label", "evidence"),) if code else ()
    return TriageResult(
        category=category, risk=risk, language=language, topics=tuple(topics), signals=signals
    )


def make_turn(
    content: Content,
    text: str = "",
    button: str | None = None,
    triaged: TriageResult | None = None,
    case: Case | None = None,
    state: ConversationState | None = None,
    profile: Profile | None = None,
    first: bool = False,
    queue: QueueInfo | None = None,
) -> Turn:
    case = case or Case(id=1, status="bot", risk="none", priority=0, topics=[], signals=[], created_at=NOW)

    async def queue_info() -> QueueInfo | None:
        return queue

    return Turn(
        content=content,
        profile=profile or Profile(language="az"),
        state=state or ConversationState(),
        case=case,
        inbound=Inbound(channel="test", user_id="u", text=text or None, button=button),
        text=text,
        now=NOW,
        first=first,
        triage_text=lambda _: triaged or result(),
        queue_info=queue_info,
    )


def payloads(turn: Turn) -> list[str]:
    return [b.data for r in turn.replies for row in r.buttons for b in row]


async def test_an_urgent_message_opens_a_case_and_gets_the_crisis_text(content: Content) -> None:
    turn = make_turn(content, "…", triaged=result(Risk.URGENT, Category.PSYCHOLOGICAL, ["suicide"], code="x"))
    await route(turn)
    assert [e.kind for e in turn.events] == [EventKind.OPENED]
    assert turn.case.status == CaseStatus.QUEUED
    assert [r.text for r in turn.replies] == [content.t("crisis.suicide", "az", Audience.UNKNOWN)]
    assert {"safe:yes", "safe:no"} <= set(payloads(turn)) and turn.trigger == "…"
    assert turn.state.crisis_text_at == NOW.timestamp()


async def test_a_medical_emergency_gets_103_and_112(content: Content) -> None:
    turn = make_turn(content, "…", triaged=result(Risk.IMMINENT, Category.HEALTH, ["illness"], code="m"))
    await route(turn)
    assert turn.replies[0].text == content.t("crisis.medical", "az", Audience.UNKNOWN)
    assert "103" in turn.replies[0].text and "112" in turn.replies[0].text


async def test_waiting_person_hears_their_place_and_the_wait(content: Content) -> None:
    case = Case(id=1, status="bot", risk="none", priority=0, topics=[], signals=[], created_at=NOW)
    lifecycle.request_counsellor(case, NOW)
    turn = make_turn(content, "kimsə var?", case=case, queue=QueueInfo(position=3, minutes=12))
    await route(turn)
    position = content.t("wait.position.ahead", "az", Audience.UNKNOWN, ahead=2)
    eta = content.t("wait.eta.minutes", "az", minutes=12)
    assert [r.text for r in turn.replies] == [
        content.t("wait.text", "az", Audience.UNKNOWN, position=position, eta=eta)
    ]
    assert turn.relay_to_staff and turn.events == []


async def test_a_rise_inside_a_waiting_case_repeats_the_full_crisis_text(content: Content) -> None:
    case = Case(id=1, status="bot", risk="none", priority=0, topics=[], signals=[], created_at=NOW)
    state = ConversationState()
    first = make_turn(
        content, "a", triaged=result(Risk.URGENT, topics=["suicide"], code="x"), case=case, state=state
    )
    await route(first)
    again = make_turn(
        content, "b", triaged=result(Risk.URGENT, topics=["suicide"], code="x"), case=case, state=state
    )
    await route(again)
    assert again.replies[0].text.startswith(content.t("wait.crisis", "az", Audience.UNKNOWN)[:20])
    rise = make_turn(
        content, "c", triaged=result(Risk.IMMINENT, topics=["suicide"], code="y"), case=case, state=state
    )
    await route(rise)
    assert rise.replies[0].text == content.t("crisis.suicide_imminent", "az", Audience.UNKNOWN)
    assert [e.reason for e in rise.events] == [lifecycle.Reason.RISK_RAISED]


async def test_im_fine_never_closes_the_check(content: Content) -> None:
    case = Case(id=1, status="bot", risk="none", priority=0, topics=[], signals=[], created_at=NOW)
    state = ConversationState()
    await route(
        make_turn(
            content, "x", triaged=result(Risk.URGENT, topics=["suicide"], code="x"), case=case, state=state
        )
    )
    fine = make_turn(content, "yaxşıyam", case=case, state=state)
    await route(fine)
    assert fine.replies[0].text == content.t("crisis.glad_safe", "az", Audience.UNKNOWN)
    assert case.status == CaseStatus.QUEUED and state.safe_answers == 1


async def test_a_stale_or_forged_button_is_answered_not_obeyed(content: Content) -> None:
    for data in ("safe:no", "fb:yes:1", "art:grief:0", "lang:zz", "x" * 200):
        turn = make_turn(content, button=data)
        await route(turn)
        assert turn.replies[0].text == content.t("error.unknown_button", "az", Audience.UNKNOWN), data
        assert turn.events == [] and turn.case.status == CaseStatus.BOT


async def test_a_teen_gets_the_teen_version_of_an_article_in_at_most_two_screens(content: Content) -> None:
    state = ConversationState(offered=["art:loneliness:0", "art:loneliness:1"])
    turn = make_turn(
        content, button="art:loneliness:0", state=state, profile=Profile(language="az", audience="child")
    )
    await route(turn)
    teen = content.articles["loneliness"].steps("teen", "az")
    assert teen[0] in turn.replies[0].text and "art:loneliness:1" in payloads(turn)
    last = make_turn(
        content, button="art:loneliness:1", state=state, profile=Profile(language="az", audience="child")
    )
    await route(last)
    assert teen[-1] in last.replies[0].text
    assert {"artfb:loneliness:yes", "artfb:loneliness:no", "human"} <= set(payloads(last))


@pytest.mark.parametrize("answer", ["yes", "no", "wait"])
async def test_forget_answers(content: Content, answer: str) -> None:
    state = ConversationState(offered=[f"forget:{answer}"])
    turn = make_turn(content, button=f"forget:{answer}", state=state)
    await route(turn)
    assert turn.forget is (answer == "yes")


def test_the_conversation_state_round_trips_and_never_shares_lists() -> None:
    raw = {"offered": ["human"], "safe_answers": 2, "unknown_old_key": 1}
    state = ConversationState.load(raw)
    state.offered.append("menu")
    assert raw["offered"] == ["human"]  # the stored JSON is not changed in place
    assert ConversationState.load(state.dump()) == state and "unknown_old_key" not in state.dump()
