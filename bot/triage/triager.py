"""Triage of one message: language, risk, category, topics, audience.

The explainable rules (``bot/content/triage/risk_rules.yaml``) come first and decide the risk level;
the trained model is a second opinion that may *raise* the level (none -> elevated, or a possible
urgent / imminent case, with a signal saying which kind of messages it resembles) but never lowers
what a rule raised.  Two parts of the model can flag a possible urgent case: the risk head (its
probability of urgent + imminent) and the binary escalate head, trained to recognise risk from the
words alone for phrasings no rule knows, with a threshold chosen on the training split.  Neither
overrides a message that says plainly it is not about suicide or self-harm ("intihar fikrim
yoxdur", "I'm not suicidal").  The model also decides the category and topics, with the rules' topics taking
precedence for risky messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.domain import Audience, Category, Risk, Signal, TriageResult
from bot.triage.language import detect_language
from bot.triage.model import LinearModel, Prediction, load_or_train, message_features
from bot.triage.normalize import Normalized, az_lower, fold_pattern, normalize
from bot.triage.resources import load_taxonomy, load_yaml, topic_categories
from bot.triage.risk import RiskAssessment, RiskRules, load_rules

MODEL_SIGNAL = "model_risk"
# Signals saying the message denies suicidal or self-harm thoughts, or that the writer will simply be
# away somewhere: the model does not escalate such a message on its own.
_DENIAL_CODES = frozenset({"c_not_suicidal", "c_ordinary_absence"})
_CONTEXTS_THAT_SOFTEN = frozenset(
    {
        "figurative",
        "game",
        "study",
        "media",
        "information",
        "trip",
        "medical_use",
        "correspondence",
        "household",
    }
)


@dataclass(frozen=True)
class TriageSettings:
    """Thresholds for the model's second opinion and for topics (bot/content/triage/triage.yaml)."""

    elevated: float = 0.6  # P(elevated or worse) to raise none -> elevated
    urgent: float = 0.55  # P(urgent or imminent) to raise to urgent
    urgent_in_context: float = 0.85  # the same when the message reads as a game/essay/joke
    imminent: float = 0.7  # P(imminent) to raise urgent -> imminent
    min_words_to_escalate: int = 3  # shorter messages carry too little for the model to escalate alone
    urgent_weak_evidence: float = 0.85  # the same when only a time or a place was found
    weak_evidence_hooks: frozenset[str] = frozenset({"time_soon", "time_now", "place_height"})
    weak_evidence_codes: frozenset[str] = frozenset()
    topic: float = 0.5  # a topic is reported when the model's probability reaches this
    max_topics: int = 3
    rule_category_min_prob: float = 0.05  # rules pick the category unless the model finds it very unlikely
    rule_category_from: str = "urgent"  # the lowest risk level whose rule topic decides the category
    not_psychological_contexts: frozenset[str] = frozenset()
    topic_priority: tuple[str, ...] = ()  # which signal/topic decides the category when several fire
    escalate_head: bool = True  # let the binary escalate head flag possible urgent cases
    escalate_head_min_distress: float = 0.5  # ... when the risk head's P(elevated or worse) reaches this
    escalate_head_in_context: float = 0.9  # the head's lowest threshold in a game/film/joke context

    @classmethod
    def load(cls) -> TriageSettings:
        data = (load_yaml("triage.yaml") or {}).get("model") or {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("weak_evidence_codes", "weak_evidence_hooks", "not_psychological_contexts"):
            if key in known:
                known[key] = frozenset(str(c) for c in known[key] or ())
        if "topic_priority" in known:
            known["topic_priority"] = tuple(str(t) for t in known["topic_priority"] or ())
        return cls(**known)


@dataclass(frozen=True)
class _ModelLabels:
    """Counsellor-facing labels of the model's signal, from triage.yaml (en and az)."""

    en: dict[str, str]
    az: dict[str, str]

    @classmethod
    def load(cls) -> _ModelLabels:
        data = (load_yaml("triage.yaml") or {}).get("model_signal") or {}
        return cls(
            en={level: str(v.get("en", "")) for level, v in data.items()},
            az={level: str(v.get("az", v.get("en", ""))) for level, v in data.items()},
        )


@dataclass(frozen=True)
class _Markers:
    adult: re.Pattern[str]
    child: re.Pattern[str]
    third: re.Pattern[str]
    first: re.Pattern[str]


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fold_pattern(str(p))})" for p in patterns) or r"(?!x)x")


@lru_cache(maxsize=1)
def _markers() -> _Markers:
    d = load_yaml("audience.yaml")
    return _Markers(
        adult=_compile(d.get("adult") or []),
        child=_compile(d.get("child") or []),
        third=_compile(d.get("third_person") or []),
        first=_compile(d.get("first_person") or []),
    )


class Triager:
    def __init__(
        self, model: LinearModel, rules: RiskRules | None = None, settings: TriageSettings | None = None
    ) -> None:
        self.model = model
        self.rules = rules or load_rules()
        self.settings = settings or TriageSettings.load()
        self.markers = _markers()
        self._topic_category = topic_categories()
        taxonomy_topics = load_taxonomy().get("topics") or {}
        self._topic_label = {code: str(info.get("en", code)) for code, info in taxonomy_topics.items()}
        self._model_labels = _ModelLabels.load()

    # -- public ----------------------------------------------------------------------------------

    def analyze(self, text: str, prior: Sequence[Signal] = ()) -> TriageResult:
        norm = normalize(text or "")
        language = detect_language(norm)
        assessment = self.rules.assess(norm.folded, prior)
        prediction = self.model.predict_features(message_features(norm.folded, self.rules, assessment.codes))
        words = sum(1 for tok in norm.tokens if any(ch.isalpha() for ch in tok))
        risk, signals = self._risk(assessment, prediction, words)
        category, confidence = self._category(assessment, prediction, risk)
        topics = self._topics(assessment, prediction, category)
        return TriageResult(
            category=category,
            risk=risk,
            language=language,
            topics=tuple(topics),
            signals=tuple(signals),
            confidence=round(confidence, 3),
            third_person=self._third_person(norm, assessment, risk),
            audience_hint=self._audience(norm),
        )

    def label_az(self, code: str, level: Risk | str = Risk.URGENT, topic: str = "") -> str:
        """The Azerbaijani label of a signal code (for staff screens in Azerbaijani)."""
        if code == MODEL_SIGNAL:
            text = self._model_labels.az.get(Risk(level).value, "").format(topic=self._topic_label_az(topic))
            return text.rstrip(": ").strip()
        return self.rules.labels_az.get(code, code)

    def _topic_label_az(self, topic: str) -> str:
        info = (load_taxonomy().get("topics") or {}).get(topic) or {}
        return az_lower(str(info.get("az", topic)))

    # -- risk ------------------------------------------------------------------------------------

    def _risk(self, a: RiskAssessment, p: Prediction, words: int) -> tuple[Risk, list[Signal]]:
        s = self.settings
        level = a.level
        # Signals that carry a level are reported.  Of the cues (level none), only those a combo can
        # use later in the conversation are returned, so the engine can pass them back as "prior".
        signals = [sig for sig in a.signals if sig.level.rank > 0]
        cues = [sig for sig in a.signals if sig.level.rank == 0 and sig.code in self.rules.memorable_cues]
        p_imm = p.risk.get("imminent", 0.0)
        p_esc = p.risk.get("urgent", 0.0) + p_imm
        p_dist = p_esc + p.risk.get("elevated", 0.0)
        soft = bool(a.contexts & _CONTEXTS_THAT_SOFTEN)
        model_signal: Signal | None = None
        about = self._model_topic(p)
        enough_words = words >= s.min_words_to_escalate
        # Only a time or a place found ("tonight", "bridge"): the model must be much surer on its own.
        weak = any(sig.code in s.weak_evidence_hooks for sig in a.signals) and all(
            sig.code in s.weak_evidence_codes for sig in a.signals
        )
        threshold = s.urgent_in_context if soft else s.urgent
        if weak:
            threshold = max(threshold, s.urgent_weak_evidence)
        denied = bool(a.codes & _DENIAL_CODES) and a.level.rank < Risk.URGENT.rank
        if level.rank < Risk.URGENT.rank and enough_words and not denied:
            if p_esc >= threshold:
                level = Risk.URGENT
                model_signal = self._model_signal(Risk.URGENT, about, p_esc)
            elif self._escalate_head_says_so(p, strict=soft or weak, p_dist=p_dist):
                level = Risk.URGENT
                model_signal = self._model_signal(Risk.URGENT, about, p.escalate)
        if level == Risk.URGENT and a.level.rank <= Risk.URGENT.rank and p_imm >= s.imminent and not soft:
            level = Risk.IMMINENT
            model_signal = self._model_signal(Risk.IMMINENT, about, p_imm)
        if level == Risk.NONE and p_dist >= s.elevated and not soft:
            level = Risk.ELEVATED
            model_signal = self._model_signal(Risk.ELEVATED, about, p_dist)
        if model_signal is not None:
            signals.append(model_signal)
        signals.sort(key=lambda x: -x.level.rank)
        return level, signals + cues

    def _escalate_head_says_so(self, p: Prediction, strict: bool, p_dist: float) -> bool:
        """The binary head reaches its threshold and the risk head also reads distress."""
        m, s = self.model, self.settings
        if not s.escalate_head or p.escalate is None:
            return False
        threshold = m.escalate_threshold_strict if strict else m.escalate_threshold
        if threshold is None:
            return False
        if strict:
            threshold = max(threshold, s.escalate_head_in_context)
        return p.escalate >= threshold and p_dist >= s.escalate_head_min_distress

    def _model_signal(self, level: Risk, about: str, prob: float) -> Signal:
        template = self._model_labels.en.get(level.value) or "the model finds this close to {topic}"
        return Signal(MODEL_SIGNAL, level, template.format(topic=about), f"p={prob:.2f}")

    def _model_topic(self, p: Prediction) -> str:
        risky = [t for t in p.topics if t not in ("school", "legal_help", "service_info", "parenting")]
        if not risky:
            return "distress"
        best = max(risky, key=p.topics.__getitem__)
        return self._topic_label.get(best, best).lower()

    # -- category and topics --------------------------------------------------------------------

    def _category(self, a: RiskAssessment, p: Prediction, risk: Risk) -> tuple[Category, float]:
        """The model's category, adjusted by the helpline's reporting conventions.

        - A risk rule at "urgent" or above names the topic (suicide and self-harm -> psychological,
          abuse and neglect -> social, early marriage and child labour -> legal ...).
        - Figurative speech, games, films and trips are not a psychological matter.
        """
        s = self.settings
        ranked = sorted(p.category, key=p.category.__getitem__, reverse=True)
        if a.level.rank >= Risk(s.rule_category_from).rank:
            # The topics of the strongest signals; the first in topic_priority (a signal code or a
            # topic) decides.
            order = {t: i for i, t in enumerate(s.topic_priority)}
            found = [
                (min(order.get(sig.code, len(order)), order.get(t, len(order))), t)
                for sig in a.signals
                if sig.level == a.level
                for t in self.rules.topics_by_code.get(sig.code, ())
            ]
            for _, topic in sorted(found, key=lambda pair: pair[0]):
                cat = self._topic_category.get(topic)
                if cat and p.category.get(cat, 0.0) >= s.rule_category_min_prob:
                    return Category(cat), p.category[cat]
        if risk == Risk.NONE and a.contexts & s.not_psychological_contexts and ranked[0] == "psychological":
            cat = max(("other", "education"), key=p.category.__getitem__)
            return Category(cat), p.category[cat]
        return Category(ranked[0]), p.category[ranked[0]]

    def _topics(self, a: RiskAssessment, p: Prediction, category: Category) -> list[str]:
        topics: list[str] = []
        for t in a.topics:
            if t not in topics:
                topics.append(t)
        ranked = sorted(p.topics.items(), key=lambda kv: -kv[1])
        for t, prob in ranked:
            if prob < self.settings.topic:
                break
            if t not in topics:
                topics.append(t)
        if not topics and ranked and category != Category.OTHER:
            # Fall back on the most likely topic of the chosen category.
            for t, prob in ranked:
                if self._topic_category.get(t) == category.value and prob >= self.settings.topic / 2:
                    topics.append(t)
                    break
        return topics[: self.settings.max_topics]

    # -- who -------------------------------------------------------------------------------------

    def _audience(self, norm: Normalized) -> Audience:
        m = self.markers
        if m.adult.search(norm.folded):
            return Audience.ADULT
        if m.child.search(norm.folded):
            return Audience.CHILD
        return Audience.UNKNOWN

    def _third_person(self, norm: Normalized, a: RiskAssessment, risk: Risk) -> bool:
        if risk == Risk.NONE:
            return False
        m = self.markers
        folded = norm.folded
        if not m.third.search(folded):
            return False
        risky = [h for h in a.hits if not h.is_cue and h.level.rank >= Risk.ELEVATED.rank]
        if not risky:
            return not m.first.search(folded)
        for h in risky:
            # the hit and the word before it (usually its subject: "mən özümü ..." / "bacım özünü ...")
            start = folded.rfind(" ", 0, max(h.start - 1, 0)) + 1
            if m.first.search(folded[start : h.end]):
                return False
        return True


def load_triager(cache_dir: Path | None = None) -> Triager:
    """Load the cached model (training it first if the corpus or lexicon changed) and the rules."""
    return Triager(load_or_train(cache_dir))
