"""Crisis: urgent or imminent risk. Safety first, a human at once, and no closing on "I'm fine"."""

from __future__ import annotations

from datetime import timedelta

from bot.cases import enqueue, raise_to
from bot.domain import Risk, TriageResult
from bot.flows.base import Turn

SUICIDE_TOPICS = {"suicide", "self_harm"}
REPEAT_FULL_TEXT_AFTER = timedelta(minutes=10)


def _safety_buttons(turn: Turn) -> list:
    return [turn.button("btn.safe_yes", "safe:yes"), turn.button("btn.safe_no", "safe:no")]


async def crisis(turn: Turn, result: TriageResult) -> None:
    case = turn.case
    kind = enqueue(case, turn.now, "risk")
    if kind:
        turn.emit(kind)
    check = dict(turn.state.get("risk_check") or {})
    last = check.get("at")
    recent = last is not None and turn.now.timestamp() - float(last) < REPEAT_FULL_TEXT_AFTER.total_seconds()
    if recent and kind != "case_updated":
        turn.say_key("crisis.still_here", _safety_buttons(turn))
    else:
        topics = set(result.topics) | set(case.topics or ())
        signal_codes = " ".join(s.code for s in result.signals)
        suicidal = bool(topics & SUICIDE_TOPICS) or "suicid" in signal_codes or "self_harm" in signal_codes
        if result.third_person:
            key = "crisis.third_person"
        elif suicidal and Risk(case.risk) == Risk.IMMINENT:
            key = "crisis.suicide_imminent"
        elif suicidal:
            key = "crisis.suicide"
        else:
            key = "crisis.danger"
        turn.say_key(key, _safety_buttons(turn))
    check.update({"open": True, "at": turn.now.timestamp()})
    turn.set_state(risk_check=check)


async def safety_answer(turn: Turn, safe: bool) -> None:
    """An answer to "are you safe right now?". It never closes the risk check."""
    check = dict(turn.state.get("risk_check") or {"open": True})
    if safe:
        check["fine"] = int(check.get("fine", 0)) + 1
        turn.set_state(risk_check=check)
        turn.say_key("crisis.glad_safe" if check["fine"] == 1 else "crisis.glad_safe_again")
        return
    case = turn.case
    was_imminent = case.risk == Risk.IMMINENT.value
    raise_to(case, Risk.IMMINENT)
    kind = enqueue(case, turn.now, "risk")
    if kind == "case_opened":
        turn.emit(kind)
    elif kind or not was_imminent:
        turn.emit("case_updated")
    check["unsafe"] = int(check.get("unsafe", 0)) + 1
    check["at"] = turn.now.timestamp()
    turn.set_state(risk_check=check)
    turn.say_key("crisis.not_safe", _safety_buttons(turn))
