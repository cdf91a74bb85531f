"""The case lifecycle: one home for the states, the transitions and the safety rules they enforce.

A conversation has one case. It starts as ``bot`` (the bot answers alone); risk or a request for a
person puts it in the counsellor ``queued``; a counsellor ``claimed`` it and talks with the person
through the bot; a counsellor (or the bot, for a conversation that went quiet) ``closed`` it.

Every transition is a function of the case (a ``bot.storage.models.Case`` row, or anything with the
same attributes) that changes it and returns a :class:`Change`: the events the staff side must hear
about, or why the transition was refused. Nothing here knows a channel or the database; the engine,
the counsellors' desk and the jobs call these functions inside their transaction, with the case row
locked. No other module assigns or compares a case's status.

The rules:

- Risk only ever goes up. Any rise inside an open case is announced (``case_updated``, reason
  ``risk_raised``, with the level before) and answered for the new level at once.
- Urgent or imminent risk puts the case in the queue at the highest priority at once.
- An urgent or imminent case is closed only by the counsellor who claimed it, and every close by a
  counsellor names an outcome.
- ``/forget`` never silently drops a person at risk: an open urgent or imminent case stays in the
  queue, marked "the person asked to be forgotten", so the on-call counsellor knows.
- An unclaimed urgent or imminent case is announced again until someone claims it (imminent more
  often than urgent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.domain import (
    PRIORITY_BY_RISK,
    CaseEvent,
    CaseStatus,
    Category,
    CloseOutcome,
    EventKind,
    Risk,
    Signal,
    StaffMember,
    TriageResult,
)

MAX_SIGNALS = 30
START = CaseStatus.BOT  # a new conversation's case: the bot answers alone
WAITING = CaseStatus.QUEUED  # in the counsellor queue, not claimed yet (for the queries that count it)
OPEN = frozenset({CaseStatus.QUEUED, CaseStatus.CLAIMED})
# A close that comes this soon after a rise of risk the counsellor has not seen yet is refused once:
# the person's words and the close crossed (the counsellor pressed Close while they wrote).
UNSEEN_RISE = timedelta(minutes=10)

# What a counsellor can choose when closing; the bot's own outcomes (idle, forgotten) are not offered.
COUNSELLOR_OUTCOMES: tuple[CloseOutcome, ...] = (
    CloseOutcome.SAFE_NOW,
    CloseOutcome.ADVICE,
    CloseOutcome.EMERGENCY,
    CloseOutcome.POLICE,
    CloseOutcome.SOCIAL_SERVICES,
    CloseOutcome.OMBUDSMAN,
    CloseOutcome.FAMILY_MEETING,
    CloseOutcome.REHABILITATION,
    CloseOutcome.UNREACHABLE,
    CloseOutcome.FALSE_ALARM,
)


class Reason(StrEnum):
    """Why a case was opened or updated (travels with the event)."""

    RISK = "risk"  # opened: the triage found urgent or imminent risk
    REQUEST = "request"  # opened: the person asked for a counsellor
    RISK_RAISED = "risk_raised"  # updated: the risk went up inside an open case
    RELEASED = "released"  # updated: the counsellor gave the case back to the queue
    PERSON_LEFT = "person_left"  # updated: the person used /forget while the case was open


class Refusal(StrEnum):
    """Why a staff action did not go through (the text for each is in content: ``staff.refused.*``)."""

    NOT_FOUND = "not_found"
    ALREADY_CLAIMED = "already_claimed"
    YOURS_ALREADY = "yours_already"
    NOT_ASSIGNEE = "not_assignee"
    CLOSED = "closed"
    NOT_CLAIMED = "not_claimed"
    CLAIM_FIRST = "claim_first"
    OUTCOME_NEEDED = "outcome_needed"
    RISK_JUST_ROSE = "risk_just_rose"
    PERSON_GONE = "person_gone"
    EMPTY = "empty"


class CaseRecord(Protocol):
    """The attributes of a case the lifecycle reads and writes (the ``Case`` row has them all)."""

    id: int
    status: str
    priority: int
    risk: str
    category: str | None
    topics: list[Any]
    signals: list[Any]
    opened_reason: str | None
    waiting_since: datetime | None
    claimed_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    assignee_id: str | None
    assignee_name: str | None
    closed_by: str | None
    closed_by_id: str | None
    outcome: str | None
    person_left_at: datetime | None
    last_announced_at: datetime | None
    risk_raised_at: datetime | None
    risk_seen_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class RiskRise:
    before: Risk
    after: Risk


@dataclass
class Change:
    """What a transition did: the events to announce, or the refusal (and who holds the case)."""

    events: list[CaseEvent] = field(default_factory=list)
    refusal: Refusal | None = None
    holder: str | None = None
    rise: RiskRise | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    @property
    def opened(self) -> bool:
        return any(e.kind == EventKind.OPENED for e in self.events)


def refused(reason: Refusal, case: CaseRecord | None = None) -> Change:
    return Change(refusal=reason, holder=case.assignee_name if case is not None else None)


# ---- reading a case --------------------------------------------------------------------------------
def status(case: CaseRecord) -> CaseStatus:
    return CaseStatus(case.status)


def is_open(case: CaseRecord) -> bool:
    return status(case) in OPEN


def is_queued(case: CaseRecord) -> bool:
    return status(case) == CaseStatus.QUEUED


def is_claimed(case: CaseRecord) -> bool:
    return status(case) == CaseStatus.CLAIMED


def is_closed(case: CaseRecord) -> bool:
    return status(case) == CaseStatus.CLOSED


def risk(case: CaseRecord) -> Risk:
    return Risk(case.risk)


def person_left(case: CaseRecord) -> bool:
    return case.person_left_at is not None


def signals(case: CaseRecord) -> tuple[Signal, ...]:
    return tuple(signal_from_json(s) for s in case.signals or ())


def signal_to_json(signal: Signal) -> dict[str, Any]:
    return {
        "code": signal.code,
        "level": signal.level.value,
        "label": signal.label,
        "evidence": signal.evidence,
    }


def signal_from_json(raw: dict[str, Any]) -> Signal:
    return Signal(
        code=str(raw.get("code", "")),
        level=Risk(raw.get("level", "none")),
        label=str(raw.get("label", "")),
        evidence=str(raw.get("evidence", "")),
    )


def event(
    case: CaseRecord,
    kind: EventKind,
    reason: str = "",
    previous: Risk | None = None,
    outcome: CloseOutcome | None = None,
) -> CaseEvent:
    return CaseEvent(
        kind=kind,
        case_id=case.id,
        priority=case.priority,
        risk=risk(case),
        category=Category(case.category) if case.category else None,
        topics=tuple(case.topics or ()),
        signals=signals(case),
        reason=reason,
        previous_risk=previous,
        outcome=outcome,
    )


# ---- the person's side -----------------------------------------------------------------------------
def observe(case: CaseRecord, result: TriageResult) -> RiskRise | None:
    """Fold one message's triage into the case (risk only goes up). Returns the rise, if any."""
    before = risk(case)
    after = Risk.max(before, result.risk)
    case.risk = after.value
    rose = after.rank > before.rank
    if case.category in (None, Category.OTHER.value) or (rose and result.category != Category.OTHER):
        case.category = result.category.value
    if rose and result.topics:
        # The topics of the message that raised the risk come first: they name what the case is about.
        case.topics = list(dict.fromkeys([*result.topics, *(case.topics or ())]))
    else:
        case.topics = list(dict.fromkeys([*(case.topics or ()), *result.topics]))
    if result.signals:
        known = {(s.get("code"), s.get("evidence")) for s in case.signals or ()}
        merged = list(case.signals or ())
        merged += [signal_to_json(s) for s in result.signals if (s.code, s.evidence) not in known]
        case.signals = merged[-MAX_SIGNALS:]
    if rose and is_open(case):
        case.priority = max(case.priority, PRIORITY_BY_RISK[after])
    return RiskRise(before, after) if rose else None


def after_message(case: CaseRecord, result: TriageResult, now: datetime) -> Change:
    """A person's message was triaged: fold it in, queue a crisis, announce a rise in an open case."""
    rise = observe(case, result)
    change = Change(rise=rise)
    if rise is not None:
        case.risk_raised_at = now
    if is_open(case):
        if rise is not None:
            change.events.append(event(case, EventKind.UPDATED, Reason.RISK_RAISED, rise.before))
    elif risk(case).escalates:
        change.events.append(_queue(case, now, Reason.RISK))
    return change


def request_counsellor(case: CaseRecord, now: datetime) -> Change:
    """The person asked for a person. Opens the case once; asking again changes nothing."""
    if is_open(case):
        return Change()
    return Change(events=[_queue(case, now, Reason.REQUEST)])


def raise_risk(case: CaseRecord, level: Risk, now: datetime, signal: Signal | None = None) -> Change:
    """The person said something the bot treats as a level of risk on its own (e.g. "not safe")."""
    result = TriageResult(
        category=Category(case.category or Category.OTHER.value),
        risk=level,
        language="",
        signals=(signal,) if signal else (),
    )
    return after_message(case, result, now)


def _queue(case: CaseRecord, now: datetime, reason: Reason) -> CaseEvent:
    case.status = CaseStatus.QUEUED.value
    case.priority = PRIORITY_BY_RISK[risk(case)]
    case.waiting_since = now
    case.opened_reason = reason.value
    case.last_announced_at = None
    case.claimed_at = case.closed_at = case.first_response_at = None
    case.assignee_id = case.assignee_name = case.closed_by = case.closed_by_id = case.outcome = None
    case.person_left_at = None
    return event(case, EventKind.OPENED, reason)


def forget(case: CaseRecord, now: datetime) -> Change:
    """The person confirmed /forget. A case at risk stays open for the staff, marked; others close."""
    if is_open(case) and risk(case).escalates:
        case.person_left_at = now
        return Change(events=[event(case, EventKind.UPDATED, Reason.PERSON_LEFT)])
    if is_open(case):
        return Change(events=[_close(case, now, CloseOutcome.FORGOTTEN, None)])
    return Change()  # a conversation the bot handled alone just ends (its facts stay for the reports)


def close_idle(case: CaseRecord, now: datetime) -> Change:
    """A conversation the bot handled alone went quiet. Open cases never close on their own."""
    if status(case) != CaseStatus.BOT:
        return Change()
    _close(case, now, CloseOutcome.IDLE, None)
    return Change()


def needs_safety_answer(case: CaseRecord) -> bool:
    """While the risk check is open the bot keeps asking "are you safe?" (never closed by "fine")."""
    return risk(case).escalates and not is_closed(case)


# ---- the counsellors' side --------------------------------------------------------------------------
def claim(case: CaseRecord, staff: StaffMember, now: datetime) -> Change:
    """Take a queued case. With the row locked, of two counsellors at once exactly one wins."""
    if is_closed(case):
        return refused(Refusal.CLOSED, case)
    if is_claimed(case):
        return refused(
            Refusal.YOURS_ALREADY if case.assignee_id == staff.id else Refusal.ALREADY_CLAIMED, case
        )
    if not is_queued(case):
        return refused(Refusal.NOT_FOUND, case)
    case.status = CaseStatus.CLAIMED.value
    case.claimed_at = now
    case.assignee_id = staff.id
    case.assignee_name = staff.name
    case.risk_seen_at = now  # the card shows the case as it is now
    return Change(events=[event(case, EventKind.CLAIMED)])


def release(case: CaseRecord, staff: StaffMember, now: datetime) -> Change:
    """Give a claimed case back to the queue (end of shift); it is announced again."""
    if is_closed(case):
        return refused(Refusal.CLOSED, case)
    if not is_claimed(case):
        return refused(Refusal.NOT_CLAIMED, case)
    if case.assignee_id != staff.id:
        return refused(Refusal.NOT_ASSIGNEE, case)
    case.status = CaseStatus.QUEUED.value
    case.assignee_id = case.assignee_name = None
    case.claimed_at = None
    case.waiting_since = now
    case.last_announced_at = None
    return Change(events=[event(case, EventKind.UPDATED, Reason.RELEASED)])


def reply(case: CaseRecord, staff: StaffMember, now: datetime, empty: bool = False) -> Change:
    """May this counsellor write to the person now? Records the first response."""
    if is_closed(case):
        return refused(Refusal.CLOSED, case)
    if not is_claimed(case):
        return refused(Refusal.NOT_CLAIMED, case)
    if case.assignee_id != staff.id:
        return refused(Refusal.NOT_ASSIGNEE, case)
    if person_left(case):
        return refused(Refusal.PERSON_GONE, case)
    if empty:
        return refused(Refusal.EMPTY, case)
    if case.first_response_at is None:
        case.first_response_at = now
    case.risk_seen_at = now  # answering, the counsellor has read what came before
    return Change()


def close_refusal(case: CaseRecord, staff: StaffMember) -> Refusal | None:
    """Why this counsellor may not close the case now (before asking for an outcome)."""
    if is_closed(case):
        return Refusal.CLOSED
    if is_claimed(case) and case.assignee_id != staff.id:
        return Refusal.NOT_ASSIGNEE
    if risk(case).escalates and not is_claimed(case):
        return Refusal.CLAIM_FIRST
    return None


def close(case: CaseRecord, staff: StaffMember, now: datetime, outcome: CloseOutcome | str | None) -> Change:
    """A counsellor closes the case with an outcome (asked for when missing)."""
    refusal = close_refusal(case, staff)
    if refusal is not None:
        return refused(refusal, case)
    if outcome not in COUNSELLOR_OUTCOMES:
        return refused(Refusal.OUTCOME_NEEDED, case)
    if unseen_rise(case, now):
        case.risk_seen_at = now  # said once: a second close goes through
        return refused(Refusal.RISK_JUST_ROSE, case)
    return Change(events=[_close(case, now, CloseOutcome(outcome), staff)])


def unseen_rise(case: CaseRecord, now: datetime) -> bool:
    """Did the risk rise a moment ago, after the counsellor last looked (claimed, answered)?"""
    raised = case.risk_raised_at
    if raised is None or now - raised > UNSEEN_RISE:
        return False
    return case.risk_seen_at is None or case.risk_seen_at < raised


def _close(case: CaseRecord, now: datetime, outcome: CloseOutcome, staff: StaffMember | None) -> CaseEvent:
    case.status = CaseStatus.CLOSED.value
    case.closed_at = now
    case.outcome = outcome.value
    case.closed_by = staff.name if staff else None
    case.closed_by_id = staff.id if staff else None
    return event(case, EventKind.CLOSED, outcome=outcome)


def was_talked_to(case: CaseRecord) -> bool:
    """Did a counsellor ever take this case (so "the counsellor ended the conversation" is true)?"""
    return case.claimed_at is not None


# ---- reminders --------------------------------------------------------------------------------------
def reminder_interval(case: CaseRecord, imminent_seconds: float, urgent_seconds: float) -> float | None:
    """How often an unclaimed case is announced again (None: never)."""
    if not is_queued(case):
        return None
    level = risk(case)
    if level == Risk.IMMINENT:
        return imminent_seconds
    if level == Risk.URGENT:
        return urgent_seconds
    return None


def reminder_due(case: CaseRecord, now: datetime, imminent_seconds: float, urgent_seconds: float) -> bool:
    interval = reminder_interval(case, imminent_seconds, urgent_seconds)
    if interval is None:
        return False
    last = case.last_announced_at or case.waiting_since or case.created_at
    return (now - last).total_seconds() >= interval


def queue_order(cases: Iterable[CaseRecord]) -> list[CaseRecord]:
    """Most urgent first (priority, then imminent before urgent), then the longest waiting."""
    return sorted(
        cases,
        key=lambda c: (-c.priority, -risk(c).rank, c.waiting_since or c.created_at, c.id),
    )
