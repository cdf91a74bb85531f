"""Risk behaviour of the triager: explanations and their labels, third person and audience, topics
that agree with the risk, medical emergencies, conversation context, and the rule that neither the
rules nor the history ever lower a level.

All messages here are written for the tests (not taken from the corpus).
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain import Audience, Category, Risk
from bot.triage import signal_label
from bot.triage.model import LEVELS, LinearModel
from bot.triage.risk import load_rules
from bot.triage.triager import CONTEXT_SIGNAL, MODEL_SIGNAL, Triager


def codes(result) -> set[str]:
    return {s.code for s in result.signals}


# --- explanations and labels ---------------------------------------------------------------------


def test_signals_explain_the_alarm_in_counsellor_words(triager):
    result = triager.analyze("ölmək istəyirəm, anamın həblərini yığmışam")
    assert result.risk == Risk.IMMINENT
    top = result.signals[0]
    assert top.level == Risk.IMMINENT and top.code == "suicide_plan"
    assert " " in top.label and top.evidence  # a phrase, and the words that fired it
    assert result.topics[0] == "suicide" and result.category == Category.PSYCHOLOGICAL


def test_as_dict_has_the_cli_schema(triager):
    data = triager.analyze("yaşamaq istəmirəm").as_dict()
    assert set(data) == {"category", "risk", "escalate", "language", "topics", "signals"}
    assert data["risk"] == "urgent" and data["escalate"] is True and data["language"] == "az"
    assert {"code", "level", "label", "evidence"} <= set(data["signals"][0])


def test_every_concept_rule_and_model_signal_has_a_label_in_three_languages():
    rules = load_rules()
    all_codes = (
        [c.code for c in rules.concepts] + [r.code for r in rules.rules] + [MODEL_SIGNAL, CONTEXT_SIGNAL]
    )
    for code in all_codes:
        labels = {lang: signal_label(code, lang) for lang in ("az", "ru", "en")}
        assert all(labels.values()), (code, labels)
        assert labels["az"] != labels["en"] and labels["ru"] != labels["en"], code
    assert signal_label("suicide_plan", "de") == signal_label("suicide_plan", "en")
    assert signal_label("no_such_code", "az") is None


# --- third person and audience -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "bacım deyir ki özünü öldürəcək",
        "my friend says she wants to kill herself",
        "подруга говорит что хочет умереть",
    ],
)
def test_third_person_reports_are_escalated_and_marked(triager, text):
    result = triager.analyze(text)
    assert result.escalate and result.third_person


@pytest.mark.parametrize("text", ["ölmək istəyirəm", "I want to kill myself", "я не хочу жить"])
def test_first_person_is_not_third_person(triager, text):
    result = triager.analyze(text)
    assert result.escalate and not result.third_person


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("oğlum 14 yaşındadır, heç danışmır, otağından çıxmır", Audience.ADULT),
        ("my son is being bullied at school", Audience.ADULT),
        ("14 yaşım var, anam məni başa düşmür", Audience.CHILD),
        ("im 13 and my mom reads my messages", Audience.CHILD),
        ("salam", Audience.UNKNOWN),
    ],
)
def test_audience_hint(triager, text, audience):
    assert triager.analyze(text).audience_hint == audience


# --- Russian in Latin letters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [("ne xochu jit", "не хочу жить"), ("ubyu sebya segodnya", "убью себя сегодня")],
)
def test_russian_in_latin_letters_is_read_like_cyrillic(triager, latin, cyrillic):
    a, b = triager.analyze(latin), triager.analyze(cyrillic)
    assert a.escalate and b.escalate
    assert {s.code for s in a.signals if s.level.escalates} == {
        s.code for s in b.signals if s.level.escalates
    }


# --- topics agree with the risk -----------------------------------------------------------------


def test_topics_agree_with_the_risk_signals(triager):
    tonight = triager.analyze("bu gecə özümü öldürəcəm")
    assert tonight.risk == Risk.IMMINENT and tonight.topics[0] == "suicide"
    assert "abuse" not in tonight.topics
    hoarded = triager.analyze("həbləri yığmışam")
    assert "illness" not in hoarded.topics
    teen = triager.analyze("im 15. i want to die")
    assert teen.escalate and teen.topics[0] == "suicide" and "parenting" not in teen.topics


@pytest.mark.parametrize(
    "text",
    [
        "2 yaşlı oğlum düymə batareyası udub, nə edim?",
        "qızım huşsuzdur, yerdə uzanıb, ayılmır",
        "у сына судороги, изо рта пена, что делать",
        "my baby is not breathing and her lips are blue",
        "bacımın boğazı şişib, fındıq yedi, nəfəs ala bilmir",
    ],
)
def test_medical_emergencies_are_imminent_health_and_illness(triager, text):
    result = triager.analyze(text)
    assert result.risk == Risk.IMMINENT, [(s.code, s.evidence) for s in result.signals]
    assert result.category == Category.HEALTH and result.topics[0] == "illness"


# --- conversation context ------------------------------------------------------------------------


def test_facts_spread_over_messages_combine(triager):
    question = "paracetamolun neçə dənəsi öldürücüdür?"
    first = triager.analyze(question)
    second = triager.analyze("evdə bütöv bir qutu var", history=(question,))
    assert second.escalate and second.risk.rank >= first.risk.rank
    assert any("earlier" in s.evidence for s in second.signals if s.level.escalates)


def test_a_short_follow_up_keeps_the_topic_and_category(triager):
    opening = "sinifdə uşaqlar məni ələ salır, ləqəb qoyurlar"
    follow = triager.analyze("hər gün", history=(opening,))
    assert follow.topics[:1] == ("bullying",) and follow.category == Category.PSYCHOLOGICAL
    assert not follow.escalate


def test_history_never_lowers_the_risk(triager):
    crisis = "bu gecə hamı yatandan sonra bütün həbləri içəcəm"
    alone = triager.analyze(crisis)
    with_history = triager.analyze(crisis, history=("salam", "vebinar nə vaxtdır?", "linki göndərin"))
    assert alone.risk == Risk.IMMINENT and with_history.risk == Risk.IMMINENT


def test_prior_signals_of_the_case_still_combine(triager):
    first = triager.analyze("ölmək istəyirəm")
    second = triager.analyze("həbləri yığmışam", prior=first.signals)  # no history passed
    assert second.risk == Risk.IMMINENT


# --- rules only add risk; the model carries weight -------------------------------------------------


def _constant_model(levels: dict[str, float], category: str = "other") -> LinearModel:
    cats = tuple(c.value for c in Category)
    bias = [8.0 if c == category else 0.0 for c in cats] + [levels.get(n, -8.0) for n in LEVELS]
    return LinearModel(
        vocab={},
        idf=np.zeros(0, np.float32),
        weights=np.zeros((0, len(bias)), np.float32),
        bias=np.array(bias, dtype=np.float32),
        categories=cats,
        topics=(),
        thresholds={"elevated": 0.5, "urgent": 0.5, "context": 0.6, "imminent": 0.5},
    )


def test_the_model_cannot_lower_a_rule_alarm():
    calm = Triager(_constant_model({}))
    result = calm.analyze("ozumu oldurmek isteyirem")
    assert result.risk == Risk.URGENT and "suicidal_talk" in codes(result)
    assert calm.analyze("bu gece ozumu oldurecem, hebler hazirdir").risk == Risk.IMMINENT


def test_the_model_escalates_on_its_own_with_an_explained_signal():
    worried = Triager(_constant_model({"elevated": 8.0, "urgent": 8.0}))
    result = worried.analyze("bilmirəm nə yazım artıq")
    assert result.risk == Risk.URGENT
    signal = next(s for s in result.signals if s.code == MODEL_SIGNAL)
    assert signal.label and signal.evidence.startswith("p=")
    assert not worried.analyze("salam").escalate  # one word: the model alone does not escalate


def test_guards_do_not_silence_the_model():
    """A harmless context (a game, an emoji) stops rules, never the model's own judgement."""
    worried = Triager(_constant_model({"elevated": 8.0, "urgent": 8.0}))
    assert worried.analyze("oyunda öldüm yenə 😂").escalate
