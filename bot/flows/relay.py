"""While a case is open the person's messages go on to the counsellors, and the person is never left
wondering: every message while waiting is answered with their place in the queue and the wait."""

from __future__ import annotations

from bot import lifecycle
from bot.flows.base import Turn


async def hold(turn: Turn, with_safety: bool = False) -> None:
    """The case waits for a counsellor: the message goes to them, and the person hears where they are."""
    turn.relay_to_staff = True
    info = await turn.queue_info()
    if info is None:
        position = turn.t("wait.position.unknown")
    elif info.position <= 1:
        position = turn.t("wait.position.next")
    else:
        position = turn.t("wait.position.ahead", ahead=info.position - 1)
    if info is None or info.minutes is None:
        eta = turn.t("wait.eta.unknown")
    else:
        eta = turn.t("wait.eta.minutes", minutes=max(1, info.minutes))
    key = "wait.crisis" if with_safety or lifecycle.risk(turn.case).escalates else "wait.text"
    turn.say_key(key, position=position, eta=eta)
    turn.state.hold_at = turn.now.timestamp()


async def media(turn: Turn) -> None:
    """A photo, voice note, sticker or file: relayed in a live conversation, otherwise words please."""
    if lifecycle.is_claimed(turn.case):
        turn.relay_to_staff = True
        return
    if lifecycle.is_open(turn.case):
        await hold(turn)
        return
    turn.say_key("media.please_write", [turn.human_button()])
