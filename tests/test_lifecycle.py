"""The case lifecycle as a domain model: every rule on a plain case object, no database, no channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import lifecycle
from bot.domain import (
    PRIORITY_HIGHEST,
    CaseStatus,
    Category,
    CloseOutcome,
    EventKind,
    Risk,
    Signal,
    StaffMember,
    TriageResult,
)
from bot.lifecycle import Reason, Refusal

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
AYNUR = StaffMember("console:aynur", "Aynur")
LEYLA = StaffMember("console:leyla", "Leyla")


@dataclass
class FakeCase:
    """Everything the lifecycle reads and writes, and nothing else."""

    id: int = 7
    status: str = "bot"
    priority: int = 0
    risk: str = "none"
    category: str | None = None
    topics: list[Any] = field(default_factory=list)
    signals: list[Any] = field(default_factory=list)
    opened_reason: str | None = None
    waiting_since: datetime | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    assignee_id: str | None = None
    assignee_name: str | None = None
    closed_by: str | None = None
    closed_by_id: str | None = None
    outcome: str | None = None
    person_left_at: datetime | None = None
    last_announced_at: datetime | None = None
    risk_raised_at: datetime | None = None
    risk_seen_at: datetime | None = None
    created_at: datetime = NOW


def triaged(risk: Risk, topics: tuple[str, ...] = (), code: str = "", category=Category.PSYCHOLOGICAL):
    signals = (Signal(code, risk, f"label of {code}", "evidence"),) if code else ()
    return TriageResult(category=category, risk=risk, language="az", topics=topics, signals=signals)


def queued(risk: Risk = Risk.URGENT) -> FakeCase:
    case = FakeCase()
    change = lifecycle.after_message(case, triaged(risk, ("suicide",), "suicidal_thoughts"), NOW)
    assert change.opened
    return case


def claimed(by: StaffMember = AYNUR, risk: Risk = Risk.URGENT) -> FakeCase:
    case = queued(risk)
    assert lifecycle.claim(case, by, NOW).ok
    return case


# ---- the person's side -------------------------------------------------------------------------------
def test_urgent_risk_opens_the_case_at_the_highest_priority() -> None:
    case = FakeCase()
    change = lifecycle.after_message(case, triaged(Risk.URGENT, ("suicide",), "suicidal_thoughts"), NOW)
    [event] = change.events
    assert event.kind == EventKind.OPENED and event.reason == Reason.RISK
    assert case.status == CaseStatus.QUEUED and case.priority == PRIORITY_HIGHEST
    assert case.waiting_since == NOW and event.signals[0].code == "suicidal_thoughts"


def test_ordinary_and_elevated_messages_do_not_open_a_case() -> None:
    case = FakeCase()
    assert lifecycle.after_message(case, triaged(Risk.NONE, category=Category.EDUCATION), NOW).events == []
    assert lifecycle.after_message(case, triaged(Risk.ELEVATED, ("low_mood",)), NOW).events == []
    assert case.status == CaseStatus.BOT and case.risk == "elevated"


@pytest.mark.parametrize("status", ["queued", "claimed"])
def test_a_rise_from_urgent_to_imminent_inside_an_open_case_is_announced(status: str) -> None:
    """Urgent and imminent share the priority, so the old code saw no change and told no one."""
    case = queued() if status == "queued" else claimed()
    change = lifecycle.after_message(case, triaged(Risk.IMMINENT, ("suicide",), "means_ready"), NOW)
    [event] = change.events
    assert event.kind == EventKind.UPDATED and event.reason == Reason.RISK_RAISED
    assert event.previous_risk == Risk.URGENT and event.risk == Risk.IMMINENT
    assert {s.code for s in event.signals} == {"suicidal_thoughts", "means_ready"}
    assert change.rise == lifecycle.RiskRise(Risk.URGENT, Risk.IMMINENT)
    assert case.status == status  # a rise never takes the case from the counsellor who has it


def test_every_rise_inside_an_open_case_is_announced_also_from_none() -> None:
    case = FakeCase()
    assert lifecycle.request_counsellor(case, NOW).opened
    for level in (Risk.ELEVATED, Risk.URGENT, Risk.IMMINENT):
        [event] = lifecycle.after_message(case, triaged(level), NOW).events
        assert event.reason == Reason.RISK_RAISED and event.risk == level
    assert case.priority == PRIORITY_HIGHEST


def test_risk_never_goes_down_and_repeats_announce_nothing() -> None:
    case = queued(Risk.IMMINENT)
    assert lifecycle.after_message(case, triaged(Risk.URGENT), NOW).events == []
    assert lifecycle.after_message(case, triaged(Risk.NONE), NOW).events == []
    assert case.risk == "imminent"


def test_not_safe_raises_to_imminent() -> None:
    case = queued(Risk.URGENT)
    change = lifecycle.raise_risk(case, Risk.IMMINENT, NOW, Signal("said_not_safe", Risk.IMMINENT, "x"))
    assert change.rise is not None and case.risk == "imminent"
    assert change.events[0].reason == Reason.RISK_RAISED


def test_asking_for_a_person_twice_opens_one_case() -> None:
    case = FakeCase()
    assert lifecycle.request_counsellor(case, NOW).opened
    assert lifecycle.request_counsellor(case, NOW).events == []
    assert case.opened_reason == Reason.REQUEST and case.priority == 1


def test_forget_during_a_crisis_keeps_the_case_open_and_marked() -> None:
    case = queued(Risk.IMMINENT)
    change = lifecycle.forget(case, NOW)
    [event] = change.events
    assert event.kind == EventKind.UPDATED and event.reason == Reason.PERSON_LEFT
    assert case.status == CaseStatus.QUEUED and case.person_left_at == NOW
    assert case.risk == "imminent" and lifecycle.signals(case)  # the staff still see why


def test_forget_of_an_ordinary_open_case_closes_it_and_of_a_bot_case_changes_nothing() -> None:
    case = FakeCase()
    lifecycle.request_counsellor(case, NOW)
    [event] = lifecycle.forget(case, NOW).events
    assert event.kind == EventKind.CLOSED and case.outcome == CloseOutcome.FORGOTTEN
    bot_case = FakeCase()
    assert lifecycle.forget(bot_case, NOW).events == [] and bot_case.status == CaseStatus.BOT


def test_only_a_conversation_the_bot_handled_alone_closes_when_idle() -> None:
    quiet = FakeCase()
    lifecycle.close_idle(quiet, NOW)
    assert quiet.status == CaseStatus.CLOSED and quiet.outcome == CloseOutcome.IDLE
    waiting = queued()
    lifecycle.close_idle(waiting, NOW)
    assert waiting.status == CaseStatus.QUEUED


# ---- the counsellors' side ---------------------------------------------------------------------------
def test_claim_rules() -> None:
    case = queued()
    [event] = lifecycle.claim(case, AYNUR, NOW).events
    assert event.kind == EventKind.CLAIMED and case.assignee_name == "Aynur" and case.claimed_at == NOW
    other = lifecycle.claim(case, LEYLA, NOW)
    assert other.refusal == Refusal.ALREADY_CLAIMED and other.holder == "Aynur"
    assert lifecycle.claim(case, AYNUR, NOW).refusal == Refusal.YOURS_ALREADY


def test_an_unclaimed_crisis_case_cannot_be_closed() -> None:
    case = queued(Risk.IMMINENT)
    assert lifecycle.close(case, AYNUR, NOW, CloseOutcome.FALSE_ALARM).refusal == Refusal.CLAIM_FIRST
    assert case.status == CaseStatus.QUEUED


def test_closing_needs_the_claimer_and_an_outcome() -> None:
    case = claimed(AYNUR)
    assert lifecycle.close(case, LEYLA, NOW, CloseOutcome.SAFE_NOW).refusal == Refusal.NOT_ASSIGNEE
    assert lifecycle.close(case, AYNUR, NOW, None).refusal == Refusal.OUTCOME_NEEDED
    assert lifecycle.close(case, AYNUR, NOW, "made_up").refusal == Refusal.OUTCOME_NEEDED
    assert lifecycle.close(case, AYNUR, NOW, CloseOutcome.IDLE).refusal == Refusal.OUTCOME_NEEDED
    [event] = lifecycle.close(case, AYNUR, NOW, CloseOutcome.FAMILY_MEETING).events
    assert event.kind == EventKind.CLOSED and event.outcome == CloseOutcome.FAMILY_MEETING
    assert (case.closed_by, case.closed_by_id, case.outcome) == ("Aynur", AYNUR.id, "family_meeting")
    assert lifecycle.close(case, AYNUR, NOW, CloseOutcome.SAFE_NOW).refusal == Refusal.CLOSED


def test_an_ordinary_queued_case_can_be_closed_without_a_claim() -> None:
    case = FakeCase()
    lifecycle.request_counsellor(case, NOW)
    assert lifecycle.close(case, LEYLA, NOW, CloseOutcome.FALSE_ALARM).ok
    assert not lifecycle.was_talked_to(case)


def test_reply_rules() -> None:
    case = queued()
    assert lifecycle.reply(case, AYNUR, NOW).refusal == Refusal.NOT_CLAIMED
    lifecycle.claim(case, AYNUR, NOW)
    assert lifecycle.reply(case, LEYLA, NOW).refusal == Refusal.NOT_ASSIGNEE
    assert lifecycle.reply(case, AYNUR, NOW, empty=True).refusal == Refusal.EMPTY
    assert lifecycle.reply(case, AYNUR, NOW).ok and case.first_response_at == NOW
    later = NOW + timedelta(minutes=5)
    lifecycle.reply(case, AYNUR, later)
    assert case.first_response_at == NOW
    lifecycle.forget(case, later)
    assert lifecycle.reply(case, AYNUR, later).refusal == Refusal.PERSON_GONE


def test_release_puts_it_back_in_the_queue_and_it_is_announced_again() -> None:
    case = claimed(AYNUR)
    assert lifecycle.release(case, LEYLA, NOW).refusal == Refusal.NOT_ASSIGNEE
    later = NOW + timedelta(minutes=3)
    [event] = lifecycle.release(case, AYNUR, later).events
    assert event.reason == Reason.RELEASED and case.status == CaseStatus.QUEUED
    assert case.assignee_id is None and case.waiting_since == later and case.last_announced_at is None


# ---- reminders and order --------------------------------------------------------------------------------
def test_reminders_for_unclaimed_crisis_cases_only() -> None:
    imminent, urgent = queued(Risk.IMMINENT), queued(Risk.URGENT)
    ordinary = FakeCase()
    lifecycle.request_counsellor(ordinary, NOW)
    minute, five = NOW + timedelta(seconds=60), NOW + timedelta(seconds=300)
    assert lifecycle.reminder_due(imminent, minute, 60, 300)
    assert not lifecycle.reminder_due(urgent, minute, 60, 300) and lifecycle.reminder_due(
        urgent, five, 60, 300
    )
    assert not lifecycle.reminder_due(ordinary, NOW + timedelta(hours=1), 60, 300)
    imminent.last_announced_at = minute
    assert not lifecycle.reminder_due(imminent, minute + timedelta(seconds=30), 60, 300)
    lifecycle.claim(imminent, AYNUR, minute)
    assert not lifecycle.reminder_due(imminent, NOW + timedelta(hours=1), 60, 300)


def test_queue_order_most_urgent_then_longest_waiting() -> None:
    old_urgent, new_imminent, request = queued(Risk.URGENT), queued(Risk.IMMINENT), FakeCase(id=9)
    old_urgent.id, new_imminent.id = 1, 2
    old_urgent.waiting_since = NOW - timedelta(minutes=30)
    lifecycle.request_counsellor(request, NOW - timedelta(hours=2))
    assert [c.id for c in lifecycle.queue_order([request, old_urgent, new_imminent])] == [2, 1, 9]


def test_a_close_that_crosses_a_rise_of_risk_is_refused_once() -> None:
    """The counsellor presses Close while the person writes something graver: the close waits until
    the counsellor has seen it (the refusal says so; a second close goes through)."""
    case = FakeCase()
    lifecycle.request_counsellor(case, NOW)
    lifecycle.claim(case, AYNUR, NOW)
    lifecycle.after_message(
        case, triaged(Risk.URGENT, ("suicide",), "suicidal_thoughts"), NOW + timedelta(seconds=1)
    )
    soon = NOW + timedelta(seconds=2)
    assert lifecycle.close(case, AYNUR, soon, CloseOutcome.ADVICE).refusal == Refusal.RISK_JUST_ROSE
    assert case.status == CaseStatus.CLAIMED
    assert lifecycle.close(case, AYNUR, soon, CloseOutcome.SAFE_NOW).ok


def test_an_answer_after_the_rise_counts_as_seen() -> None:
    case = claimed(AYNUR, Risk.URGENT)
    lifecycle.after_message(case, triaged(Risk.IMMINENT), NOW + timedelta(seconds=1))
    lifecycle.reply(case, AYNUR, NOW + timedelta(seconds=30))
    assert lifecycle.close(case, AYNUR, NOW + timedelta(seconds=40), CloseOutcome.EMERGENCY).ok
