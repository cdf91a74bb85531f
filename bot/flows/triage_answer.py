"""Free text: triage it, then answer in a way that fits (or hand over to crisis / the counsellor).

At most two messages a turn, the counsellor button on the last one. The first answer of a
conversation carries the short "I'm a bot, anonymous, 116111 / 112" in the same message; "who is
writing" is asked once, later, skippable, and never before help; a repeat of the same topic gets a
shorter acknowledgement and no article or counsellor offer already made.
"""

from __future__ import annotations

from bot import lifecycle
from bot.domain import LANGUAGES, Audience, Category, Risk, TriageResult
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


def _adopt_profile(turn: Turn, result: TriageResult) -> None:
    """Who is writing, where the message says so ("15 yaşım var", "oğlum", "я мама")."""
    profile = turn.profile
    audience, gender = turn.content.infer_profile(turn.text)
    if audience is None and result.audience_hint != Audience.UNKNOWN:
        audience = result.audience_hint.value
    if audience is not None and profile.audience == Audience.UNKNOWN.value:
        profile.audience = audience
    if gender is not None and profile.gender is None:
        profile.gender = gender


def _intro(turn: Turn, text: str) -> str:
    """The first answer of a conversation says, in the same message, that this is a bot."""
    return f"{turn.t('welcome.short')}\n\n{text}" if turn.first else text


async def free_text(turn: Turn) -> None:
    content, case = turn.content, turn.case
    result = turn.triage_text(turn.text)
    turn.triage = result
    _adopt_language(turn, result)
    _adopt_profile(turn, result)
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
    topic = content.helpline_topic(turn.text) if result.risk.rank < Risk.URGENT.rank else None
    if topic is not None:
        said = topic.answer.get(turn.lang) or topic.answer["az"]
        turn.say(_intro(turn, f"{said}\n\n{turn.t('about.more')}"), [turn.human_button()])
        return
    if content.intent(turn.text, "plea") or content.intent(turn.text, "distress_emoji"):
        turn.say(_intro(turn, turn.t("prompt.gentle")), [turn.human_button()])
        return
    if content.intent(turn.text, "greeting"):
        if turn.first:
            await welcome.start(turn, ask_language=False)
        else:
            turn.say_key("prompt.tell_me", [turn.button("btn.topics", Topics()), turn.human_button()])
        return
    if content.intent(turn.text, "thanks"):
        turn.say_key("thanks.reply", [turn.button("btn.topics", Topics()), turn.human_button()])
        return
    if result.category == Category.OTHER and not result.topics and turn.first and len(turn.text.split()) <= 2:
        await welcome.start(turn, ask_language=result.language not in LANGUAGES)
        return
    answer(turn, result)


def answer(turn: Turn, result: TriageResult) -> None:
    content, state = turn.content, turn.state
    ack_key = next(
        (
            f"ack.topic.{t}"
            for t in content.most_specific_first(result.topics)
            if content.has(f"ack.topic.{t}")
        ),
        f"ack.{result.category.value}",
    )
    unknown = result.category == Category.OTHER and not result.topics
    if ack_key in state.acks and not unknown:
        text = turn.t("ack.again")
    else:
        text = turn.t(ack_key)
        state.acks.append(ack_key)
    level = lifecycle.risk(turn.case)
    if level == Risk.ELEVATED and state.counsellor_offered != level.value:
        text += "\n\n" + turn.t("elevated.offer_person")
        state.counsellor_offered = level.value
    rows = []
    article = content.article_for_topics(result.topics, skip=state.articles_offered)
    if article is not None:
        rows.append([selfhelp.open_button(turn, article)])
        state.articles_offered.append(article.id)
    if unknown or article is None:
        rows.append([turn.button("btn.topics", Topics())])
    rows.append([turn.human_button()])
    turn.say(_intro(turn, text), *rows)
    if state.helped and not turn.profile.asked_profile and turn.profile.audience == Audience.UNKNOWN.value:
        welcome.ask_who(turn)
    state.helped += 1
