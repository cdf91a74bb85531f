"""Free text: triage it, then answer in a way that fits (or hand over to crisis / the counsellor)."""

from __future__ import annotations

from bot.cases import OPEN_STATUSES, apply_triage
from bot.domain import LANGUAGES, Category, Risk, TriageResult
from bot.flows import crisis, handoff, relay, selfhelp, welcome
from bot.flows.base import Turn


def _adopt_language(turn: Turn, text: str, result: TriageResult) -> None:
    """Answer in the language the person writes in, unless they chose one."""
    if turn.person.language_chosen or result.language not in LANGUAGES:
        return
    if result.language != "az" and len(text.split()) < 2 and turn.person.language:
        return
    turn.person.language = result.language


async def free_text(turn: Turn, text: str) -> None:
    engine = turn.engine
    result = engine.triage(text, turn.case)
    turn.outcome.triage = result
    _adopt_language(turn, text, result)
    if result.audience_hint.value != "unknown" and turn.person.audience == "unknown":
        turn.person.audience = result.audience_hint.value
    raised = apply_triage(turn.case, result)

    if turn.case.status == "claimed":  # a counsellor is talking with the person
        turn.relay_to_staff = True
        if raised:
            turn.emit("case_updated")
        return
    if result.escalate or (turn.state.get("risk_check") and _not_safe(turn, text)):
        await crisis.crisis(turn, result)
        return
    if turn.state.get("risk_check") and engine.content.intent(text, "fine"):
        await crisis.safety_answer(turn, safe=True)
        return
    if turn.case.status in OPEN_STATUSES:
        if raised:
            turn.emit("case_updated")
        await relay.waiting(turn)
        return
    if engine.content.intent(text, "human_request"):
        await handoff.request(turn)
        return
    if engine.content.intent(text, "forget"):
        from bot.flows import forget

        await forget.ask(turn)
        return
    first = turn.conversation.message_count <= 1
    if engine.content.intent(text, "greeting") or (
        result.category == Category.OTHER and not result.topics and first and len(text.split()) <= 2
    ):
        if first:
            await welcome.start(turn)
        else:
            turn.say_key("prompt.tell_me", [turn.button("btn.topics", "topics"), turn.human_button()])
        return
    if engine.content.intent(text, "thanks"):
        turn.say_key("thanks.reply", [turn.button("btn.topics", "topics"), turn.human_button()])
        return
    answer(turn, result, first)


def _not_safe(turn: Turn, text: str) -> bool:
    return turn.engine.content.intent(text, "not_safe")


def answer(turn: Turn, result: TriageResult, first: bool) -> None:
    content = turn.engine.content
    ack_key = next(
        (f"ack.topic.{t}" for t in result.topics if content.has(f"ack.topic.{t}")),
        f"ack.{result.category.value}",
    )
    if first:
        turn.say_key("welcome.short")
    article = content.article_for_topics(result.topics)
    rows = []
    if article is not None:
        rows.append([selfhelp.open_button(turn, article)])
    rows.append([turn.human_button()])
    if result.category == Category.OTHER and not result.topics:
        rows.insert(0, [turn.button("btn.topics", "topics")])
    turn.say_key(ack_key, *rows)
    if result.risk == Risk.ELEVATED:
        turn.say_key("elevated.offer_person")
    if not turn.person.asked_profile:
        welcome.ask_who(turn)
