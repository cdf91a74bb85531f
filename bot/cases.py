"""Case rules shared by the bot's flows and the counsellors' desk.

A conversation has exactly one case. It starts with status ``bot``; risk or a request for a person
puts it in the queue (``queued``), a counsellor claims it (``claimed``) and closes it (``closed``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import PRIORITY_BY_RISK, CaseEvent, CaseStatus, Category, Risk, Signal, TriageResult
from bot.storage.models import Case

MAX_SIGNALS = 30
OPEN_STATUSES = (CaseStatus.QUEUED.value, CaseStatus.CLAIMED.value)


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


def case_signals(case: Case) -> tuple[Signal, ...]:
    return tuple(signal_from_json(s) for s in case.signals or ())


def case_event(case: Case, kind: str) -> CaseEvent:
    return CaseEvent(
        kind=kind,
        case_id=case.id,
        priority=case.priority,
        risk=Risk(case.risk),
        category=Category(case.category) if case.category else None,
        topics=tuple(case.topics or ()),
        signals=case_signals(case),
    )


def apply_triage(case: Case, result: TriageResult) -> bool:
    """Fold one message's triage into the case. Returns True when the case's risk went up."""
    old = Risk(case.risk)
    new = Risk.max(old, result.risk)
    raised = new.rank > old.rank
    case.risk = new.value
    if case.category in (None, Category.OTHER.value) or (raised and result.category != Category.OTHER):
        case.category = result.category.value
    topics = list(case.topics or ())
    for topic in result.topics:
        if topic not in topics:
            topics.append(topic)
    case.topics = topics
    if result.signals:
        known = {(s.get("code"), s.get("evidence")) for s in case.signals or ()}
        merged = list(case.signals or ())
        for signal in result.signals:
            if (signal.code, signal.evidence) not in known:
                merged.append(signal_to_json(signal))
        case.signals = merged[-MAX_SIGNALS:]
    if case.status in OPEN_STATUSES and raised:
        case.priority = max(case.priority, PRIORITY_BY_RISK[new])
    return raised


def enqueue(case: Case, now: datetime, reason: str) -> str | None:
    """Put the case in the counsellor queue. Returns the event kind, or None if nothing changed."""
    priority = PRIORITY_BY_RISK[Risk(case.risk)]
    if case.status == CaseStatus.BOT.value or case.status == CaseStatus.CLOSED.value:
        case.status = CaseStatus.QUEUED.value
        case.priority = priority
        case.waiting_since = now
        case.opened_reason = reason
        case.last_announced_at = None
        case.claimed_at = case.closed_at = case.first_response_at = None
        case.assignee_id = case.assignee_name = case.closed_by = None
        return "case_opened"
    if priority > case.priority:
        case.priority = priority
        return "case_updated"
    return None


def raise_to(case: Case, risk: Risk) -> bool:
    """Raise the case's risk (never lowers it). Returns True if the risk went up."""
    old = Risk(case.risk)
    new = Risk.max(old, risk)
    case.risk = new.value
    if case.status in OPEN_STATUSES:
        case.priority = max(case.priority, PRIORITY_BY_RISK[new])
    return new.rank > old.rank
