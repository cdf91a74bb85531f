"""Crisis: urgent or imminent risk. Safety first, a human at once, and no closing on "I'm fine".

Every crisis text says it is a bot, asks directly about safety, and gives 112 and 116111 (the
safe-messaging scan in tests/test_content.py holds them to it). The full text goes out when the case
opens, when its risk rises, and again after a pause; in between the person gets the short "you are in
the queue" answer with their place and the wait.
"""

from __future__ import annotations

from datetime import timedelta

from bot import lifecycle
from bot.domain import Risk, Signal, TriageResult
from bot.flows import relay
from bot.flows.base import Turn
from bot.payloads import Safety

SUICIDE_TOPICS = frozenset({"suicide", "self_harm"})
MEDICAL_TOPICS = frozenset({"illness", "substance_use"})
REPEAT_FULL_TEXT_AFTER = timedelta(minutes=10)
NOT_SAFE = Signal("said_not_safe", Risk.IMMINENT, "answered that they are not safe now")


def safety_buttons(turn: Turn) -> list:
    return [turn.button("btn.safe_yes", Safety(True)), turn.button("btn.safe_no", Safety(False))]


def _crisis_key(turn: Turn, result: TriageResult | None) -> str:
    case = turn.case
    topics = set(case.topics or ()) | set(result.topics if result else ())
    codes = " ".join(s.code for s in lifecycle.signals(case))
    imminent = lifecycle.risk(case) == Risk.IMMINENT
    if result is not None and result.third_person:
        return "crisis.third_person"
    if topics & SUICIDE_TOPICS or "suicid" in codes or "self_harm" in codes:
        return "crisis.suicide_imminent" if imminent else "crisis.suicide"
    if imminent and topics & MEDICAL_TOPICS:
        return "crisis.medical"
    return "crisis.danger"


async def respond(turn: Turn, change: lifecycle.Change) -> None:
    """Answer a message that leaves the case at urgent or imminent risk."""
    result = turn.triage
    if lifecycle.is_claimed(turn.case):
        # A counsellor is talking with the person: the bot stays out of the way, except that a rise
        # of risk gets the emergency numbers at once (the counsellor gets an alert).
        if change.rise is not None:
            turn.say_key("crisis.claimed")
        return
    last = turn.state.crisis_text_at
    stale = last is None or turn.now.timestamp() - last >= REPEAT_FULL_TEXT_AFTER.total_seconds()
    if change.opened or change.rise is not None or stale:
        turn.say_key(_crisis_key(turn, result), safety_buttons(turn))
        turn.state.crisis_text_at = turn.now.timestamp()
        turn.state.hold_at = turn.now.timestamp()
        return
    await relay.hold(turn, with_safety=True)


async def safety_answer(turn: Turn, safe: bool) -> None:
    """An answer to "are you in danger now?". It never closes the risk check or the case."""
    if safe:
        turn.state.safe_answers += 1
        turn.say_key("crisis.glad_safe" if turn.state.safe_answers == 1 else "crisis.glad_safe_again")
        if not lifecycle.is_open(turn.case):  # e.g. the case was closed meanwhile: keep the way back
            turn.apply(lifecycle.request_counsellor(turn.case, turn.now))
        return
    turn.state.unsafe_answers += 1
    change = turn.apply(lifecycle.raise_risk(turn.case, Risk.IMMINENT, turn.now, NOT_SAFE))
    if change.rise is not None:
        turn.trigger = turn.t("btn.safe_no")
    if not lifecycle.is_open(turn.case):
        turn.apply(lifecycle.request_counsellor(turn.case, turn.now))
    turn.relay_to_staff = lifecycle.is_open(turn.case)
    turn.state.crisis_text_at = turn.now.timestamp()
    turn.say_key("crisis.not_safe", safety_buttons(turn))
