"""Conversation flows and the router that picks one for each message.

A button is honoured only if this conversation offered it, or it is one of the always-valid ones
(``bot.payloads.ALWAYS_VALID``); its payload is decoded into a typed value first.
"""

from __future__ import annotations

from bot import lifecycle, payloads
from bot.flows import crisis, forget, handoff, menu, relay, selfhelp, triage_answer, welcome
from bot.flows.base import Turn

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


async def route(turn: Turn) -> None:
    if turn.inbound.button is not None:
        await _button(turn, turn.inbound.button)
        return
    if turn.inbound.media and not turn.text:
        await relay.media(turn)
        return
    if not turn.text:
        turn.say_key("error.empty", [turn.human_button(), turn.menu_button()])
        return
    if turn.text.startswith("/"):
        command = turn.text.split()[0].split("@")[0].lower()
        handler = COMMANDS.get(command)
        if handler is not None:
            await handler(turn)
            return
        if not lifecycle.is_claimed(turn.case):  # in a live conversation it is words for the counsellor
            turn.say_key("error.unknown_command", [turn.menu_button()])
            return
    await triage_answer.free_text(turn)


async def _button(turn: Turn, data: str) -> None:
    payload = payloads.decode(data)
    if payload is None or (data not in payloads.ALWAYS_VALID and not turn.offered(data)):
        turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])
        return
    match payload:
        case payloads.SetLanguage(code=code):
            await welcome.set_language(turn, code)
        case payloads.ChooseLanguage():
            await welcome.ask_language(turn)
        case payloads.Who(value=value):
            await welcome.set_who(turn, value)
        case payloads.Gender(value=value):
            await welcome.set_gender(turn, value)
        case payloads.Menu():
            await menu.show(turn)
        case payloads.Topics():
            await menu.topics(turn)
        case payloads.MoreTopics():
            await menu.topics(turn, more=True)
        case payloads.Human():
            await handoff.request(turn)
        case payloads.ArticleStep():
            await selfhelp.step(turn, payload)
        case payloads.ArticleFeedback():
            await selfhelp.feedback(turn, payload)
        case payloads.Safety(safe=safe):
            await crisis.safety_answer(turn, safe=safe)
        case payloads.Forget():
            await forget.ask(turn)
        case payloads.ForgetAnswer(answer=answer):
            await forget.answer(turn, answer)
        case payloads.CaseFeedback(helpful=helpful):
            case_feedback(turn, helpful)
        case payloads.Talk():
            turn.say_key("prompt.tell_me", [turn.human_button()])
        case _:  # offered once but no longer understood (e.g. after an update of the bot)
            turn.say_key("error.unknown_button", [turn.human_button(), turn.menu_button()])


def case_feedback(turn: Turn, helpful: bool) -> None:
    """ "Did this help?" after a counsellor closed the case. A "no" gets the next step at once."""
    case = turn.case
    if case.feedback is None:
        case.feedback = "yes" if helpful else "no"
    if helpful:
        turn.say_key("close.feedback_thanks")
        return
    key = "close.feedback_sorry_crisis" if lifecycle.risk(case).escalates else "close.feedback_sorry"
    turn.say_key(key, [turn.human_button()])


__all__ = ["route"]
