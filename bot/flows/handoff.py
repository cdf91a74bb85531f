"""Talk to a person: opens a case in the counsellor queue, at any point."""

from __future__ import annotations

from bot import lifecycle
from bot.flows import relay
from bot.flows.base import Turn


async def request(turn: Turn) -> None:
    if lifecycle.is_claimed(turn.case):
        turn.say_key("handoff.already_claimed")
        return
    change = turn.apply(lifecycle.request_counsellor(turn.case, turn.now))
    if change.opened:
        turn.say_key("handoff.queued")
        turn.state.hold_at = turn.now.timestamp()
        return
    await relay.hold(turn)
