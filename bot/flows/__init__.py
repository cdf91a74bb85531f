"""Conversation flows and the router that picks one for each message.

Button payloads are short strings ``name`` or ``name:arg:arg`` (at most 64 bytes, Telegram's limit).
A payload is honoured only if this conversation offered it, or it is one of the always-valid ones.
"""

from __future__ import annotations

from bot.flows import crisis, forget, handoff, menu, relay, selfhelp, triage_answer, welcome
from bot.flows.base import Turn

ALWAYS_VALID = {"menu", "human", "lang", "forget", "topics", "lang:az", "lang:ru", "lang:en"}

COMMANDS = {
    "/start": welcome.start,
    "/help": menu.help_,
    "/menu": menu.show,
    "/lang": welcome.ask_language,
    "/language": welcome.ask_language,
    "/forget": forget.ask,
    "/human": handoff.request,
    "/operator": handoff.request,
    "/counsellor": handoff.request,
    "/topics": menu.topics,
}


async def route(turn: Turn, text: str, button: str | None) -> None:
    if button is not None:
        await _button(turn, button)
        return
    if turn.inbound.media and not text:
        await relay.media(turn)
        return
    if not text:
        turn.say_key("error.empty", [turn.human_button(), turn.menu_button()])
        return
    if text.startswith("/"):
        command = text.split()[0].split("@")[0].lower()
        handler = COMMANDS.get(command)
        if handler is not None:
            await handler(turn)
            return
        if turn.case.status != "claimed":  # in a live conversation it is just words for the counsellor
            turn.say_key("error.unknown_command", [turn.menu_button()])
            return
    await triage_answer.free_text(turn, text)


async def _button(turn: Turn, data: str) -> None:
    if data not in ALWAYS_VALID and not turn.offered(data):
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])
        return
    name, _, arg = data.partition(":")
    if name == "lang":
        if arg:
            await welcome.set_language(turn, arg)
        else:
            await welcome.ask_language(turn)
    elif name == "who":
        await welcome.set_who(turn, arg)
    elif name == "gender":
        await welcome.set_gender(turn, arg)
    elif name == "menu":
        await menu.show(turn)
    elif name == "topics":
        await menu.topics(turn)
    elif name == "human":
        await handoff.request(turn)
    elif name == "art":
        await selfhelp.step(turn, arg)
    elif name == "artfb":
        await selfhelp.feedback(turn, arg)
    elif name == "safe":
        await crisis.safety_answer(turn, safe=arg == "yes")
    elif name == "forget":
        await forget.answer(turn, arg)
    elif name == "fb":
        verdict = arg.partition(":")[0]
        if turn.case.feedback is None and verdict in ("yes", "no"):
            turn.case.feedback = verdict
        turn.say_key("close.feedback_thanks")
    elif name == "talk":
        turn.say_key("prompt.tell_me", [turn.human_button()])
    else:  # offered once but no longer understood (e.g. after an update of the bot)
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])


__all__ = ["route"]
