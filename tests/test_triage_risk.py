"""Risk behaviour of the triager: explanations, third person, accumulation, negation, figurative
speech, emoji, audience; the model's second opinion never removes a rule's alarm.

All messages here are written for the tests (not taken from the corpus).
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain import Audience, Category, Risk, Signal
from bot.triage.model import LinearModel
from bot.triage.risk import load_rules
from bot.triage.triager import Triager


def codes(result) -> set[str]:
    return {s.code for s in result.signals}


# --- explanations -------------------------------------------------------------------------------


def test_signals_explain_the_alarm_in_counsellor_words(triager):
    result = triager.analyze("ölmək istəyirəm, anamın həblərini yığmışam")
    assert result.risk == Risk.IMMINENT
    top = result.signals[0]
    assert top.level == Risk.IMMINENT
    assert top.label and " " in top.label  # a phrase, not a code
    assert top.evidence  # the matched fragment
    assert "suicide" in result.topics
    assert result.category == Category.PSYCHOLOGICAL
    labels = " ".join(s.label for s in result.signals)
    assert "pills" in labels or "means" in labels


def test_as_dict_has_the_cli_schema(triager):
    data = triager.analyze("yaşamaq istəmirəm").as_dict()
    assert set(data) == {"category", "risk", "escalate", "language", "topics", "signals"}
    assert data["risk"] == "urgent" and data["escalate"] is True and data["language"] == "az"
    assert {"code", "level", "label", "evidence"} <= set(data["signals"][0])


def test_azerbaijani_labels_exist_for_every_signal(triager):
    rules = load_rules()
    for code in list(rules.labels):
        assert triager.label_az(code)


# --- third person and audience -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "bacım deyir ki özünü öldürəcək",
        "dostum hər gün ölmək istədiyini yazır, nə edim?",
        "my friend says she wants to kill herself",
        "подруга говорит что хочет умереть",
        "sinif yoldaşım özünü kəsir, mənə göstərdi",
    ],
)
def test_third_person_reports_are_escalated_and_marked(triager, text):
    result = triager.analyze(text)
    assert result.escalate
    assert result.third_person


@pytest.mark.parametrize(
    "text",
    ["ölmək istəyirəm", "atam məni döyür", "I want to kill myself", "я режу себя"],
)
def test_first_person_is_not_third_person(triager, text):
    result = triager.analyze(text)
    assert result.escalate
    assert not result.third_person


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("oğlum 14 yaşındadır, heç danışmır, otağından çıxmır", Audience.ADULT),
        ("qızımın qolunda kəsik izləri gördüm", Audience.ADULT),
        ("my son is being bullied at school", Audience.ADULT),
        ("мой сын не хочет идти в школу", Audience.ADULT),
        ("mən müəlliməm, sinifdə bir şagird ağlayır", Audience.ADULT),
        ("8-ci sinifdə oxuyuram, müəllim məni hamının qabağında ələ salır", Audience.CHILD),
        ("14 yaşım var, anam məni başa düşmür", Audience.CHILD),
        ("im 13 and my mom reads my messages", Audience.CHILD),
        ("salam", Audience.UNKNOWN),
    ],
)
def test_audience_hint(triager, text, audience):
    assert triager.analyze(text).audience_hint == audience


# --- negation and figurative speech --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "intihar etmək fikrim yoxdur, sadəcə sual verirəm",
        "ozume zerer vermek fikrim yoxdu",
        "heç vaxt özümü öldürmərəm, narahat olmayın",
        "я не думаю о суициде, просто интересно",
        "i would never kill myself, don't worry",
        "ölmək istəmirəm, sadəcə yorulmuşam",
    ],
)
def test_negated_statements_do_not_escalate(triager, text):
    assert not triager.analyze(text).escalate


@pytest.mark.parametrize(
    "text",
    [
        "gülməkdən öldüm 😂",
        "bu riyaziyyat məni öldürür",
        "ölürəm bu mahnıya",
        "oyunda öldüm yenə",
        "intihar haqqında inşa yazmalıyam, mənbə lazımdır",
        "anam bilsə məni öldürər 😅 telefonu sındırdım",
        "я умираю от смеха",
        "this song is killing me 😭😂",
        "died in minecraft again lol",
    ],
)
def test_figurative_speech_games_and_essays_do_not_escalate(triager, text):
    assert not triager.analyze(text).escalate


# --- emoji with intent words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["💊💊💊 bu gecə hər şey bitəcək", "🪢 hazırdır, hamıya əlvida", "🔪 bu axşam bitirirəm, daha bəsdir"],
)
def test_emoji_means_with_intent_is_imminent(triager, text):
    assert triager.analyze(text).risk == Risk.IMMINENT


def test_knife_emoji_in_an_ordinary_message_is_not_an_alarm(triager):
    assert not triager.analyze("🔪🍉 qarpız kəsirəm, gəlin yeyək").escalate
    assert not triager.analyze("💊 vitaminlərimi içdim, indi məktəbə gedirəm").escalate


# --- accumulation across a conversation -------------------------------------------------------------


def _conversation(triager, messages):
    prior: list[Signal] = []
    results = []
    for text in messages:
        result = triager.analyze(text, prior)
        results.append(result)
        prior = prior + list(result.signals)
    return results


@pytest.mark.parametrize(
    "messages",
    [
        ["yaşamaq istəmirəm artıq", "ip almışam"],
        ["olmek isteyirem", "bu gece"],
        ["не хочу жить", "таблетки уже купила"],
        ["i want to die", "i found my dad's gun"],
    ],
)
def test_risk_accumulates_across_a_conversation(triager, messages):
    results = _conversation(triager, messages)
    assert results[0].risk == Risk.URGENT
    assert triager.analyze(messages[-1]).risk != Risk.IMMINENT  # alone it is not imminent
    assert results[-1].risk == Risk.IMMINENT
    assert any("earlier" in s.evidence for s in results[-1].signals)


def test_the_example_of_the_brief_is_imminent(triager):
    results = _conversation(triager, ["ölmək istəyirəm", "həbləri yığmışam"])
    assert [r.risk for r in results] == [Risk.URGENT, Risk.IMMINENT]


def test_prior_distress_keeps_the_conversation_escalated(triager):
    results = _conversation(triager, ["özümü öldürmək istəyirəm", "heç kim məni başa düşmür, çox tənhayam"])
    assert results[1].escalate


def test_returned_cues_are_only_those_useful_later(triager):
    result = triager.analyze("həbləri yığmışam")
    for s in result.signals:
        assert s.level != Risk.NONE or s.code in triager.rules.memorable_cues
    assert not any(s.code == "c_self" for s in result.signals)


# --- the model may add risk, never remove it -----------------------------------------------------


def _constant_model(risk_bias: dict[str, float]) -> LinearModel:
    categories = tuple(c.value for c in Category)
    risks = tuple(r.value for r in Risk)
    bias = np.array([0.0] * len(categories) + [risk_bias.get(r, 0.0) for r in risks], dtype=np.float32)
    return LinearModel(
        vocab={},
        idf=np.zeros(0, np.float32),
        weights=np.zeros((0, len(bias)), np.float32),
        bias=bias,
        categories=categories,
        risks=risks,
        topics=(),
    )


def test_model_cannot_lower_a_rule_alarm():
    confident_none = Triager(_constant_model({"none": 20.0}))
    result = confident_none.analyze("ozumu oldurmek isteyirem")
    assert result.risk == Risk.URGENT
    assert "suicidal_thoughts" in codes(result) or "suicidal_intent" in codes(result)
    assert confident_none.analyze("körpünün üstündəyəm, atılacam").risk == Risk.IMMINENT


def test_model_can_raise_risk_with_an_explained_signal():
    worried = Triager(_constant_model({"urgent": 20.0}))
    result = worried.analyze("bilmirəm nə yazım")
    assert result.risk == Risk.URGENT
    model_signals = [s for s in result.signals if s.code == "model_risk"]
    assert model_signals and "close to messages about" in model_signals[0].label


def test_model_raise_is_damped_in_figurative_context():
    worried = Triager(_constant_model({"urgent": 1.0, "none": 0.5}))
    assert not worried.analyze("gülməkdən öldüm 😂").escalate
