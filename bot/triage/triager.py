"""Triage of one message in its conversation: language, risk, category, topics, audience.

Two parts decide the risk level, and the higher one wins (nothing lowers what the other found):

* the trained model (:mod:`bot.triage.model`), which carries most of the weight: it escalates when
  its escalation score reaches the threshold chosen on out-of-fold training scores for recall;
* the explainable rules (:mod:`bot.triage.risk`): compositions of concepts such as "lethality
  question + medicine at hand" or "farewell + tonight".  Rules can only add risk.

Conversation context: ``history`` holds the person's earlier messages (oldest first).  The model
reads a window of them with decaying weights together with the message (a short follow-up such as
"hər gün" or "yes" weighs little on its own, so the conversation's topic carries over; a long message
on a new subject outweighs the window; an earlier message with no concern of its own weighs
nothing, so an opening "Salam" does not blur the concern that follows it), and the rules may take
their concepts from earlier messages (a medicine question, then "we have a whole box at home").
The risk of a message in context is the highest of: its rules, the model on the message alone, and
the model on the window, so history can raise the level but never lower it.  ``prior`` (signals
already on the case) also fills rule groups.

Category and topics agree with the risk: when a rule raised the level, its topic comes first and
decides the category (a medical emergency is health / illness); other topics are only listed when
they belong to the same category.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.domain import Audience, Category, Risk, Signal, TriageResult
from bot.triage.audience import markers
from bot.triage.language import detect_language
from bot.triage.model import LinearModel, Prediction, Vector, combine, load_or_train, symbolic_features
from bot.triage.normalize import Normalized, normalize
from bot.triage.resources import load_taxonomy, load_yaml, topic_categories
from bot.triage.risk import LANGS, RiskAssessment, RiskRules, load_rules

MODEL_SIGNAL = "model_risk"  # the model escalated this message on its own
CONTEXT_SIGNAL = "model_context"  # the model escalated this message read with the earlier ones
_HISTORY_CACHE = 256
# "herself", "himself", "özünü", "себя" after a third-person subject (folded forms)
_OTHER_SELF = re.compile(r"\b(?:xerself|ximself|themselves|ozunu|ozune|kendini|kendine)\b")


@dataclass(frozen=True)
class TriageSettings:
    """Settings of the decision (the ``decision`` section of bot/content/triage/triage.yaml)."""

    window: int = 6  # earlier messages read with the current one
    decay: float = 0.6  # weight of the previous message; the one before it decay**2 ...
    full_weight_words: int = 8  # a message this long weighs fully against the window
    topic: float = 0.5  # a model topic is listed from this probability
    max_topics: int = 3
    topic_priority: tuple[str, ...] = ()  # which rule topic decides when several rules fire
    adult_only_topics: frozenset[str] = frozenset({"parenting"})

    @classmethod
    def load(cls) -> TriageSettings:
        data = (load_yaml("triage.yaml") or {}).get("decision") or {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "topic_priority" in known:
            known["topic_priority"] = tuple(str(t) for t in known["topic_priority"] or ())
        if "adult_only_topics" in known:
            known["adult_only_topics"] = frozenset(str(t) for t in known["adult_only_topics"] or ())
        return cls(**known)


@lru_cache(maxsize=1)
def model_signal_labels() -> dict[str, dict[str, str]]:
    """Labels of the model's own signals (triage.yaml, ``model_signal``): code -> lang -> text."""
    data = (load_yaml("triage.yaml") or {}).get("model_signal") or {}
    return {
        str(code): {lang: str(v.get(lang) or v.get("en", "")) for lang in LANGS} for code, v in data.items()
    }


@dataclass(frozen=True)
class _Seen:
    """What the triage keeps of a message for the later turns of its conversation."""

    folded: str
    words: int
    concepts: frozenset[str]
    vector: Vector
    who: frozenset[str]  # audience markers found: adult / child / third / first
    p: Prediction  # the model on the message alone
    neutral: bool  # no concern of its own (a greeting, "ok"): nothing to carry into later turns


class Triager:
    def __init__(
        self, model: LinearModel, rules: RiskRules | None = None, settings: TriageSettings | None = None
    ) -> None:
        self.model = model
        self.rules = rules or load_rules()
        self.settings = settings or TriageSettings.load()
        self.markers = markers()
        self._topic_category = topic_categories()
        self._topic_label = {
            code: str(info.get("en", code)) for code, info in (load_taxonomy().get("topics") or {}).items()
        }
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    # -- public ----------------------------------------------------------------------------------

    def analyze(self, text: str, prior: Sequence[Signal] = (), history: Sequence[str] = ()) -> TriageResult:
        norm = normalize(text or "")
        language = detect_language(norm)
        alone = self.rules.assess(norm.folded)
        seen = self._remember(text or "", norm, alone)
        earlier = [self._recall(h) for h in list(history)[-self.settings.window :] if h and h.strip()]
        if earlier or prior:
            before = {c for e in earlier for c in e.concepts if c in self.rules.memorable}
            assessment = self.rules.assess(norm.folded, prior, before, concepts=alone.concepts)
        else:
            assessment = alone
        p_alone = seen.p
        p_ctx = self._in_context(seen, earlier)
        risk, signals = self._risk(assessment, p_alone, p_ctx, seen.words)
        p = p_ctx or p_alone
        audience = self._audience(seen.who)
        category, confidence = self._category(assessment, p)
        topics = self._topics(assessment, p, category, risk, audience)
        return TriageResult(
            category=category,
            risk=risk,
            language=language,
            topics=tuple(topics),
            signals=tuple(signals),
            confidence=round(confidence, 3),
            third_person=self._third_person(norm, seen.who, risk),
            audience_hint=audience,
        )

    def signal_label(self, code: str, lang: str = "en") -> str | None:
        if code in model_signal_labels():
            labels = model_signal_labels()[code]
            return labels.get(lang) or labels.get("en")
        return self.rules.label(code, lang)

    def label_az(self, code: str, level: Risk | str = Risk.URGENT, topic: str = "") -> str:
        """The Azerbaijani label of a signal code (kept for staff screens written before signal_label)."""
        return self.signal_label(code, "az") or code

    # -- conversation memory -----------------------------------------------------------------------

    def _remember(self, text: str, norm: Normalized, a: RiskAssessment) -> _Seen:
        found = self._seen.get(text)
        if found is not None:
            self._seen.move_to_end(text)
            return found
        words = sum(1 for tok in norm.tokens if any(ch.isalpha() for ch in tok))
        who = frozenset(self.markers.found(norm.folded))
        vector = self.model.message_vector(norm.folded, symbolic_features(norm, a, who))
        p = self.model.predict_vector(vector)
        neutral = (
            not a.concepts
            and p.top_category[0] == Category.OTHER.value
            and self.model.level(p) == Risk.NONE
            and all(prob < self.settings.topic for prob in p.topics.values())
        )
        seen = _Seen(norm.folded, words, frozenset(a.concepts), vector, who, p, neutral)
        self._seen[text] = seen
        if len(self._seen) > _HISTORY_CACHE:
            self._seen.popitem(last=False)
        return seen

    def _recall(self, text: str) -> _Seen:
        found = self._seen.get(text)
        if found is not None:
            return found
        norm = normalize(text)
        return self._remember(text, norm, self.rules.assess(norm.folded))

    def _in_context(self, seen: _Seen, earlier: list[_Seen]) -> Prediction | None:
        """The model on the message with the earlier ones of its conversation, or None when they carry
        nothing (no earlier message, or only greetings and the like).  An earlier message weighs less
        the further back it is, whatever its length: a two-word disclosure ("zorlandım") must carry
        into the next turns; the message itself weighs less the shorter it is."""
        s = self.settings
        parts: list[tuple[Vector, float]] = [
            (e.vector, s.decay**k) for k, e in enumerate(reversed(earlier), start=1) if not e.neutral
        ]
        if not parts:
            return None
        own = min(1.0, max(seen.words, 1) / s.full_weight_words)
        return self.model.predict_vector(combine([(seen.vector, own), *parts]))

    # -- risk ------------------------------------------------------------------------------------

    def _risk(
        self, a: RiskAssessment, p: Prediction, p_ctx: Prediction | None, words: int
    ) -> tuple[Risk, list[Signal]]:
        signals = list(a.signals)
        level = a.level
        model_level = self.model.level(p, words=words)  # the same with or without history
        if model_level.rank > level.rank:
            level = model_level
            signals.append(self._model_signal(MODEL_SIGNAL, model_level, p))
        if p_ctx is not None:
            ctx_level = self.model.level(p_ctx, in_context=True)
            if ctx_level.rank > level.rank:
                level = ctx_level
                signals.append(self._model_signal(CONTEXT_SIGNAL, ctx_level, p_ctx))
        signals.sort(key=lambda x: -x.level.rank)
        # Concepts worth remembering go back to the engine as level-less cues, so that a later
        # message can combine with them even when the engine passes only the case's signals.
        cues = [
            Signal(code, Risk.NONE, self.rules.label(code) or code, hit.evidence)
            for code, hit in a.concepts.items()
            if code in self.rules.memorable
        ]
        return level, signals + cues

    def _model_signal(self, code: str, level: Risk, p: Prediction) -> Signal:
        about = self._model_topic(p)
        label = (model_signal_labels().get(code) or {}).get("en") or "the model finds this risky"
        prob = p.at_least["urgent" if level.escalates else "elevated"]
        return Signal(code, level, f"{label}: {about}", f"p={prob:.2f}")

    def _model_topic(self, p: Prediction) -> str:
        risky = [t for t in p.topics if t not in ("school", "legal_help", "service_info", "parenting")]
        if not risky:
            return "distress"
        best = max(risky, key=p.topics.__getitem__)
        return self._topic_label.get(best, best).lower()

    # -- category and topics --------------------------------------------------------------------

    def _leading_topic(self, a: RiskAssessment) -> str | None:
        """The topic of the strongest rule (ties broken by topic_priority)."""
        if not a.rules:
            return None
        top = a.rules[0].level
        order = {t: i for i, t in enumerate(self.settings.topic_priority)}
        candidates = [(order.get(r.topics[0], len(order)), r) for r in a.rules if r.level == top and r.topics]
        if not candidates:
            return None
        return min(candidates, key=lambda pair: pair[0])[1].topics[0]

    def _category(self, a: RiskAssessment, p: Prediction) -> tuple[Category, float]:
        lead = self._leading_topic(a)
        if lead is not None and a.level.rank >= Risk.URGENT.rank:
            rule = next(r for r in a.rules if r.topics and r.topics[0] == lead)
            cat = rule.category or self._topic_category.get(lead)
            if cat:
                return Category(cat), p.category.get(cat, 0.0)
        best, prob = p.top_category
        return Category(best), prob

    def _topics(
        self, a: RiskAssessment, p: Prediction, category: Category, risk: Risk, audience: Audience
    ) -> list[str]:
        s = self.settings
        topics: list[str] = []
        lead = self._leading_topic(a)
        if lead is not None and a.level.rank >= Risk.URGENT.rank:
            topics.append(lead)
        for r in a.rules:
            for t in r.topics:
                if t not in topics and self._topic_category.get(t) == category.value:
                    topics.append(t)
        ranked = sorted(p.topics.items(), key=lambda kv: -kv[1])
        for t, prob in ranked:
            if prob < s.topic:
                break
            if t in topics or self._topic_category.get(t) != category.value:
                continue
            if t in s.adult_only_topics and audience != Audience.ADULT:
                continue
            if risk.escalates and t == "service_info":
                continue
            topics.append(t)
        if not topics and category != Category.OTHER:
            for t, prob in ranked:
                if self._topic_category.get(t) == category.value and prob >= s.topic / 2:
                    if t in s.adult_only_topics and audience != Audience.ADULT:
                        continue
                    topics.append(t)
                    break
        return topics[: s.max_topics]

    # -- who -------------------------------------------------------------------------------------

    @staticmethod
    def _audience(who: frozenset[str]) -> Audience:
        if "adult" in who:
            return Audience.ADULT
        if "child" in who:
            return Audience.CHILD
        return Audience.UNKNOWN

    @staticmethod
    def _third_person(norm: Normalized, who: frozenset[str], risk: Risk) -> bool:
        if risk == Risk.NONE or "third" not in who:
            return False
        # "my friend says she wants to kill herself": a reflexive about someone else settles it
        return "first" not in who or bool(_OTHER_SELF.search(norm.folded))


def load_triager(cache_dir: Path | None = None, extra: Path | None = None) -> Triager:
    """Load the cached model (training it first if the data changed) and the rules.

    ``extra``: a JSONL file of counsellor labels (``{"text", "risk", "category", "lang"?}``) added to
    the training data; the cache key includes it, so a new or changed file retrains.
    """
    return Triager(load_or_train(cache_dir, extra=extra))
