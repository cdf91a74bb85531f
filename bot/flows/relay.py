"""Live conversation: while a case is open, the person's messages go on to the counsellor."""

from __future__ import annotations

from bot.cases import OPEN_STATUSES
from bot.flows.base import Turn

HOLD_EVERY_SECONDS = 180  # while waiting, a short "they are coming" at most this often


async def waiting(turn: Turn) -> None:
    """The case is queued: keep the message for the counsellor and keep the person company."""
    turn.relay_to_staff = True
    last = turn.state.get("last_hold_at")
    if last is None or turn.now.timestamp() - float(last) >= HOLD_EVERY_SECONDS:
        turn.say_key("handoff.waiting")
        turn.set_state(last_hold_at=turn.now.timestamp())


async def media(turn: Turn) -> None:
    """A photo, voice note, sticker or file: relayed in a live conversation, otherwise words please."""
    if turn.case.status == "claimed":
        turn.relay_to_staff = True
        return
    if turn.case.status in OPEN_STATUSES:
        await waiting(turn)
        return
    turn.say_key("media.please_write", [turn.human_button()])
