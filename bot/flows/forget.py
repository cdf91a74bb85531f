"""/forget: delete the person's messages and profile, keep only anonymous counts, and say so.

During an open urgent or imminent case the confirmation says plainly that the counsellor will then
not be able to write back, and offers to wait for the counsellor first.
"""

from __future__ import annotations

from bot import lifecycle
from bot.flows.base import Turn
from bot.payloads import ForgetAnswer


def _at_risk(turn: Turn) -> bool:
    return lifecycle.is_open(turn.case) and lifecycle.risk(turn.case).escalates


async def ask(turn: Turn) -> None:
    turn.state.forget_pending = True
    yes = turn.button("btn.forget_yes", ForgetAnswer("yes"))
    no = turn.button("btn.forget_no", ForgetAnswer("no"))
    if _at_risk(turn):
        wait = turn.button("btn.forget_wait", ForgetAnswer("wait"))
        turn.say_key("forget.confirm_at_risk", [wait], [yes, no])
        return
    turn.say_key("forget.confirm", [yes, no])


async def answer(turn: Turn, answer: str) -> None:
    turn.state.forget_pending = False
    if answer == "yes":
        turn.apply(lifecycle.forget(turn.case, turn.now))
        turn.say_key("forget.done")
        turn.forget = True
    elif answer == "wait":
        turn.say_key("forget.waiting")
    else:
        turn.say_key("forget.cancelled", [turn.menu_button()])
