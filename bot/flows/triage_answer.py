"""Free text: triage it, then answer in a way that fits (or hand over to crisis / the counsellor)."""

from __future__ import annotations

from bot import lifecycle
from bot.domain import LANGUAGES, Category, Risk, TriageResult
from bot.flows import crisis, forget, handoff, relay, selfhelp, welcome
from bot.flows.base import Turn
from bot.payloads import Topics


def _adopt_language(turn: Turn, result: TriageResult) -> None:
    """Answer in the language the person writes in, unless they chose one."""
    profile = turn.profile
    if profile.language_chosen or result.language not in LANGUAGES:
        return
    if result.language != "az" and len(turn.text.split()) < 2 and profile.language:
        return
    profile.language = result.language


async def free_text(turn: Turn) -> None:
    content, case = turn.content, turn.case
    result = turn.triage_text(turn.text)
    turn.triage = result
    _adopt_language(turn, result)
    if result.audience_hint.value != "unknown" and turn.profile.audience == "unknown":
        turn.profile.audience = result.audience_hint.value
    change = turn.apply(lifecycle.after_message(case, result, turn.now))
    if change.events:
        turn.trigger = turn.text  # the staff side quotes the words that opened or raised the case
    # While the case is open every message reaches the counsellors; the one that opened or raised
    # the case travels with that event instead.
    turn.relay_to_staff = lifecycle.is_open(case) and not change.events

    if lifecycle.is_claimed(case):  # a counsellor is talking with the person
        if lifecycle.risk(case).escalates:
            await crisis.respond(turn, change)
        return
    if lifecycle.risk(case).escalates:
        if turn.state.crisis_text_at is not None and not change.events:
            if content.intent(turn.text, "not_safe"):
                await crisis.safety_answer(turn, safe=False)
                return
            if content.intent(turn.text, "fine"):
                await crisis.safety_answer(turn, safe=True)
                return
        await crisis.respond(turn, change)
        return
    if content.intent(turn.text, "forget"):
        await forget.ask(turn)
        return
    if lifecycle.is_open(case):
        await relay.hold(turn)
        return
    if content.intent(turn.text, "human_request"):
        await handoff.request(turn)
        return
    if content.intent(turn.text, "greeting") or (
        result.category == Category.OTHER and not result.topics and turn.first and len(turn.text.split()) <= 2
    ):
        if turn.first:
            await welcome.start(turn)
        else:
            turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])
        return
    if content.intent(turn.text, "thanks"):
        turn.say_key("thanks.reply", [turn.button("btn.topics", Topics()), turn.human_button()])
        return
    answer(turn, result)


def answer(turn: Turn, result: TriageResult) -> None:
    content = turn.content
    ack_key = next(
        (f"ack.topic.{t}" for t in result.topics if content.has(f"ack.topic.{t}")),
        f"ack.{result.category.value}",
    )
    if turn.first:
        turn.say_key("welcome.short")
    article = content.article_for_topics(result.topics)
    rows = []
    if article is not None:
        rows.append([selfhelp.open_button(turn, article)])
    rows.append([turn.human_button()])
    if result.category == Category.OTHER and not result.topics:
        rows.insert(0, [turn.button("btn.topics", Topics())])
    turn.say_key(ack_key, *rows)
    if result.risk == Risk.ELEVATED:
        turn.say_key("elevated.offer_person")
    if not turn.profile.asked_profile:
        welcome.ask_who(turn)
