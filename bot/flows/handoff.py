"""Talk to a person: opens a case in the counsellor queue, at any point."""

from __future__ import annotations

from bot.cases import enqueue
from bot.flows.base import Turn


async def request(turn: Turn) -> None:
    case = turn.case
    if case.status == "claimed":
        turn.say_key("handoff.already_claimed")
        return
    kind = enqueue(case, turn.now, "request")
    if kind == "case_opened":
        turn.emit(kind)
        turn.say_key("handoff.queued")
        turn.set_state(last_hold_at=turn.now.timestamp())
        return
    if kind:
        turn.emit(kind)
    turn.say_key("handoff.already_queued")
