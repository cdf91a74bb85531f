"""/forget: delete the person's messages and profile, keep only anonymous counts, and say so."""

from __future__ import annotations

from bot.cases import OPEN_STATUSES
from bot.flows.base import Turn


async def ask(turn: Turn) -> None:
    turn.say_key(
        "forget.confirm",
        [turn.button("btn.forget_yes", "forget:yes"), turn.button("btn.forget_no", "forget:no")],
    )


async def answer(turn: Turn, arg: str) -> None:
    if arg == "yes":
        case = turn.case
        if case.status in OPEN_STATUSES:
            case.status = "closed"
            case.closed_at = turn.now
            case.closed_by = "forget"
            turn.emit("case_closed")
        turn.say_key("forget.done")
        turn.forgotten = True
    elif arg == "no":
        turn.say_key("forget.cancelled", [turn.menu_button()])
    else:
        await ask(turn)
