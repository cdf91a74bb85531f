"""The trained classifier: risk level, category and topics.

Features of a message (all over the *folded* text of :mod:`bot.triage.normalize`, so every spelling
of Azerbaijani and Russian in Cyrillic or Latin letters meets the same features):

* character n-grams (2 to 5 letters) inside each word, which cope with suffixes and typos;
* word unigrams and bigrams over the stems of :mod:`bot.triage.stem`;
* the concepts and rules of the risk lexicon that are found (``c:means_pills``, ``r:suicide_plan``),
  which are the same in every language, and the topic keywords of topics.yaml.

Heads (logistic regression, classes balanced): the category (6 classes), three ordinal risk heads
P(risk >= elevated), P(risk >= urgent) (the escalation head) and P(risk >= imminent), and one head
per topic.  The escalation threshold is chosen on out-of-fold scores of the training split
(:func:`sklearn.model_selection.cross_val_predict`), together with the rules, so that at least
``escalate_recall`` of the urgent and imminent training messages escalate; the held-out split is
only used to report the figures.  After training, the vocabulary, IDF weights and coefficients are
exported to plain numpy arrays: scoring is a dictionary lookup and a small matrix product, and
loading the cached model does not import scikit-learn.

The cache file is keyed on the data (corpus files, counsellor labels, the triage lexicon and
settings in bot/content/triage/*.yaml) and on :data:`MODEL_VERSION`, which is bumped whenever the
features or the training change.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.domain import Category, Risk
from bot.triage.audience import markers
from bot.triage.corpus import COUNSELLOR, Example, corpus_files, file_digest, load_corpus, load_extra
from bot.triage.corpus import test_split as _test_split
from bot.triage.corpus import train_split as _train_split
from bot.triage.normalize import Normalized, normalize
from bot.triage.resources import CORPUS_DIR, TRIAGE_CONTENT_DIR, load_yaml
from bot.triage.risk import RiskAssessment, RiskRules, load_rules
from bot.triage.stem import stem
from bot.triage.topics import load_topic_keywords

log = logging.getLogger(__name__)

# Bump when the features, the training or the exported format change (part of the cache key).
MODEL_VERSION = "triage-model-7"

CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
RISKS: tuple[str, ...] = tuple(r.value for r in Risk)
LEVELS: tuple[str, ...] = ("elevated", "urgent", "imminent")  # ordinal heads: P(risk >= level)

_NGRAM_MIN, _NGRAM_MAX = 2, 5
_MAX_WORD_FOR_NGRAMS = 20
_SYMBOLIC_WEIGHT = 3  # a concept or rule weighs like three occurrences of a word
_WORD_CACHE = 50_000


# --- features ------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _word_ngrams(word: str) -> tuple[str, ...]:
    """Character n-grams of one word with its boundaries (cached: chat vocabularies are small)."""
    padded = f" {word[:_MAX_WORD_FOR_NGRAMS]} "
    n = len(padded)
    return tuple(
        padded[i : i + k] for k in range(_NGRAM_MIN, min(_NGRAM_MAX, n) + 1) for i in range(n - k + 1)
    )


def extract_features(folded: str, concepts: Iterable[str] = (), rules: Iterable[str] = ()) -> Counter[str]:
    """Raw feature counts of a folded message (see the module docstring)."""
    feats: dict[str, int] = {}
    get = feats.get
    words = folded.split()
    stems = [stem(w) for w in words]
    for w, s in zip(words, stems, strict=True):
        key = "w:" + s
        feats[key] = get(key, 0) + 1
        for g in _word_ngrams(w):
            feats[g] = get(g, 0) + 1
    for a, b in itertools.pairwise(stems):
        key = "b:" + a + "_" + b
        feats[key] = get(key, 0) + 1
    for code in concepts:
        feats["c:" + code] = _SYMBOLIC_WEIGHT
    for code in rules:
        feats["r:" + code] = _SYMBOLIC_WEIGHT
    return Counter(feats)


_LAUGH = frozenset("😂🤣😆😹😅😄😜🙈😎🥳🎉😁😀😃😊🤪😝")
_SAD = frozenset("😭😢😞😔💔🥺😥😩😫🖤😿")


def message_features(
    norm: Normalized,
    rules: RiskRules,
    assessment: RiskAssessment | None = None,
    who: Iterable[str] | None = None,
) -> Counter[str]:
    """Features of one normalised message: n-grams, its lexicon concepts and rules, topic keywords,
    and a few signs the folded text loses (a question mark, laughing or crying emoji, digits, the
    length, who seems to write)."""
    if assessment is None:
        assessment = rules.assess(norm.folded)
    feats = extract_features(norm.folded)
    feats.update(symbolic_features(norm, assessment, who))
    return feats


def symbolic_features(
    norm: Normalized, assessment: RiskAssessment, who: Iterable[str] | None = None
) -> dict[str, int]:
    """The features that are not n-grams: concepts, rules, topic keywords and a few signs."""
    folded = norm.folded
    feats: dict[str, int] = {}
    for code in assessment.concepts:
        feats["c:" + code] = _SYMBOLIC_WEIGHT
    for signal in assessment.signals:
        feats["r:" + signal.code] = _SYMBOLIC_WEIGHT
    for topic in load_topic_keywords().hits(folded):
        feats["t:" + topic] = _SYMBOLIC_WEIGHT
    raw = norm.raw
    if "?" in raw:
        feats["s:question"] = 1
    if "!" in raw:
        feats["s:exclaim"] = 1
    if any(ch in _LAUGH for ch in norm.emoji):
        feats["s:laugh"] = 1
    if any(ch in _SAD for ch in norm.emoji):
        feats["s:sad"] = 1
    if any(ch.isdigit() for ch in raw):
        feats["s:digits"] = 1
    n = len(norm.tokens)
    feats["s:len" + ("1" if n <= 2 else "2" if n <= 5 else "3" if n <= 12 else "4")] = 1
    for marker in markers().found(folded) if who is None else who:
        feats["a:" + marker] = 1
    return feats


# --- the exported model --------------------------------------------------------------------------


@dataclass
class Prediction:
    category: dict[str, float]
    at_least: dict[str, float]  # "elevated" / "urgent" / "imminent" -> P(risk >= that level)
    topics: dict[str, float]

    @property
    def escalate(self) -> float:
        """The escalation score: P(risk >= urgent)^0.75 * P(risk >= elevated)^0.25.

        The second factor keeps ordinary messages that merely share words with crisis messages (a
        film, a game, a pill for a headache) below the threshold; its small weight keeps distress
        without danger (elevated) from being escalated as often as a plain geometric mean would.
        """
        return self.at_least["urgent"] ** 0.75 * self.at_least["elevated"] ** 0.25

    @property
    def top_category(self) -> tuple[str, float]:
        best = max(self.category, key=self.category.__getitem__)
        return best, self.category[best]


@dataclass(frozen=True)
class Vector:
    """A sparse l2-normalised TF-IDF vector: feature indices and their values."""

    ids: np.ndarray  # int64
    vals: np.ndarray  # float32

    @classmethod
    def empty(cls) -> Vector:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))

    def __bool__(self) -> bool:
        return bool(len(self.ids))


@dataclass
class LinearModel:
    """TF-IDF (sublinear tf, l2 norm) + linear heads, as plain arrays.

    Columns of ``weights``: the categories, the three ordinal risk heads, then the topics.
    """

    vocab: dict[str, int]
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_outputs)
    bias: np.ndarray  # (n_outputs,)
    categories: tuple[str, ...]
    topics: tuple[str, ...]
    thresholds: dict[str, float]  # "elevated" / "urgent" / "imminent"
    meta: dict = field(default_factory=dict)
    _word_ids: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_word_ids"] = {}  # a cache, not part of the model
        return state

    def message_vector(self, folded: str, symbolic: dict[str, int]) -> Vector:
        """The same vector as ``vector(message_features(...))``, faster: the n-gram and word features
        of each word are looked up once and cached."""
        vocab, cache = self.vocab, self._word_ids
        words = folded.split()
        ids: list[int] = []
        for w in words:
            found = cache.get(w)
            if found is None:
                grams = ("w:" + stem(w), *_word_ngrams(w))
                found = tuple(j for g in grams if (j := vocab.get(g)) is not None)
                if len(cache) < _WORD_CACHE:
                    cache[w] = found
            ids.extend(found)
        stems = [stem(w) for w in words]
        for a, b in itertools.pairwise(stems):
            j = vocab.get("b:" + a + "_" + b)
            if j is not None:
                ids.append(j)
        extra = [(j, c) for f, c in symbolic.items() if (j := vocab.get(f)) is not None]
        if not ids and not extra:
            return Vector.empty()
        uniq, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        if extra:
            uniq = np.concatenate(
                [uniq, np.fromiter((j for j, _ in extra), dtype=np.int64, count=len(extra))]
            )
            counts = np.concatenate(
                [counts, np.fromiter((c for _, c in extra), dtype=np.int64, count=len(extra))]
            )
            uniq, inverse = np.unique(uniq, return_inverse=True)
            counts = np.bincount(inverse, weights=counts)
        vals = (1.0 + np.log(counts.astype(np.float32))) * self.idf[uniq]
        norm = float(np.sqrt(vals @ vals))
        return Vector(uniq, (vals / norm if norm > 0 else vals).astype(np.float32))

    def vector(self, feats: Counter[str]) -> Vector:
        """The l2-normalised TF-IDF vector (sublinear tf) of the known features."""
        vocab = self.vocab
        pairs = [(j, c) for f, c in feats.items() if c > 0 and (j := vocab.get(f)) is not None]
        if not pairs:
            return Vector.empty()
        ids = np.fromiter((j for j, _ in pairs), dtype=np.int64, count=len(pairs))
        counts = np.fromiter((c for _, c in pairs), dtype=np.float32, count=len(pairs))
        vals = (1.0 + np.log(counts)) * self.idf[ids]
        norm = float(np.sqrt(vals @ vals))
        return Vector(ids, vals / norm if norm > 0 else vals)

    def predict_vector(self, vec: Vector) -> Prediction:
        s = vec.vals @ self.weights[vec.ids] + self.bias if vec else self.bias.copy()
        nc, nl = len(self.categories), len(LEVELS)
        cat = _softmax(s[:nc])
        levels = 1.0 / (1.0 + np.exp(-s[nc : nc + nl]))
        # keep the ordinal heads consistent: P(>= imminent) <= P(>= urgent) <= P(>= elevated)
        levels = np.minimum.accumulate(levels)
        top = 1.0 / (1.0 + np.exp(-s[nc + nl :]))
        return Prediction(
            category=dict(zip(self.categories, cat.tolist(), strict=True)),
            at_least=dict(zip(LEVELS, levels.tolist(), strict=True)),
            topics=dict(zip(self.topics, top.tolist(), strict=True)),
        )

    def predict_features(self, feats: Counter[str]) -> Prediction:
        return self.predict_vector(self.vector(feats))

    def level(self, p: Prediction, in_context: bool = False, words: int | None = None) -> Risk:
        """The risk level the model gives.

        ``in_context``: for a window of the conversation, where the stricter "context" threshold
        applies.  ``words``: the length of a message read alone; a single word is never escalated by
        the model.
        """
        threshold = self.thresholds["urgent"]
        if in_context:
            threshold = self.thresholds["context"]
        elif words is not None and words < self.meta.get("min_words", 2):
            threshold = math.inf
        if p.escalate >= threshold:
            return Risk.IMMINENT if p.at_least["imminent"] >= self.thresholds["imminent"] else Risk.URGENT
        if p.at_least["elevated"] >= self.thresholds["elevated"]:
            return Risk.ELEVATED
        return Risk.NONE


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def combine(vectors: Sequence[tuple[Vector, float]]) -> Vector:
    """A weighted sum of vectors, l2-normalised again (the conversation window)."""
    parts = [(v, w) for v, w in vectors if w > 0 and v]
    if not parts:
        return Vector.empty()
    ids = np.concatenate([v.ids for v, _ in parts])
    vals = np.concatenate([v.vals * np.float32(w) for v, w in parts])
    uniq, inverse = np.unique(ids, return_inverse=True)
    summed = np.bincount(inverse, weights=vals).astype(np.float32)
    norm = float(np.sqrt(summed @ summed))
    return Vector(uniq, summed / norm if norm > 0 else summed)


# --- training ------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """The ``training`` section of bot/content/triage/triage.yaml."""

    c_category: float = 1.0  # a linear SVM
    c_risk: float = 12.0
    c_topics: float = 4.0
    min_df: int = 2
    topic_min_examples: int = 8
    escalate_recall: float = 0.985  # share of urgent+imminent training messages (out of fold) to escalate
    context_recall: float = 0.95  # the same for the (stricter) escalation of a message read in its context
    imminent_recall: float = 0.9  # share of imminent training messages (out of fold) to reach imminent
    elevated_recall: float = 0.9  # share of elevated-or-worse training messages to reach elevated
    folds: int = 4
    min_words: int = 2  # a shorter message is never escalated by the model on its own
    thresholds_with_rules: bool = False  # count the messages the rules escalate when choosing thresholds
    counsellor_weight: float = 4.0  # a counsellor's label counts like this many corpus messages
    max_iter: int = 200

    @classmethod
    def load(cls) -> TrainConfig:
        data = (load_yaml("triage.yaml") or {}).get("training") or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _featurize(examples: Sequence[Example], rules: RiskRules) -> tuple[list[Counter[str]], list[Risk]]:
    feats: list[Counter[str]] = []
    rule_levels: list[Risk] = []
    t0 = time.perf_counter()
    for i, ex in enumerate(examples, start=1):
        norm = normalize(ex.text)
        a = rules.assess(norm.folded)
        feats.append(message_features(norm, rules, a))
        rule_levels.append(a.level)
        if i % 4000 == 0:
            log.info(
                "triage training: features of %d/%d messages (%.1fs)",
                i,
                len(examples),
                time.perf_counter() - t0,
            )
    return feats, rule_levels


def _fit_binary(x, y: np.ndarray, w: np.ndarray, c: float, max_iter: int):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=max_iter)
    clf.fit(x, y, sample_weight=w)
    return clf


_CATEGORY_SCALE = 3.0  # the linear SVM's margins, scaled so that their softmax reads like a probability


def _category_head(
    x, y: np.ndarray, weights: np.ndarray, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """A linear SVM over the categories (one against the rest), exported as softmax logits."""
    from sklearn.svm import LinearSVC

    cat_w = np.zeros((len(CATEGORIES), x.shape[1]), dtype=np.float32)
    cat_b = np.full(len(CATEGORIES), -30.0, dtype=np.float32)  # a category absent from training
    classes = np.unique(y)
    if len(classes) == 1:
        cat_b[classes[0]] = 0.0
        return cat_w, cat_b
    svm = LinearSVC(C=config.c_category, class_weight="balanced")
    svm.fit(x, y, sample_weight=weights)
    coef, intercept = svm.coef_, svm.intercept_
    if len(svm.classes_) == 2:  # one margin: + for the second class, - for the first
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    for row, cls in enumerate(svm.classes_):
        cat_w[cls] = coef[row] * _CATEGORY_SCALE
        cat_b[cls] = intercept[row] * _CATEGORY_SCALE
    return cat_w, cat_b


def _binary_head(x, y: np.ndarray, weights: np.ndarray, config: TrainConfig):
    """Coefficients, bias and out-of-fold probabilities of one binary risk head.

    With too few examples of a class for cross-validation (a tiny corpus), the out-of-fold scores
    are the in-sample ones; with a single class the head is constant.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        value = 10.0 if n_pos else -10.0
        return np.zeros(x.shape[1], dtype=np.float32), value, np.full(len(y), 1.0 / (1.0 + np.exp(-value)))
    clf = _fit_binary(x, y, weights, config.c_risk, config.max_iter)
    folds = min(config.folds, n_pos, len(y) - n_pos)
    if folds < 2:
        oof = clf.predict_proba(x)[:, 1]
    else:
        oof = cross_val_predict(
            LogisticRegression(
                C=config.c_risk, solver="liblinear", class_weight="balanced", max_iter=config.max_iter
            ),
            x,
            y,
            cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=7),
            method="predict_proba",
            params={"sample_weight": weights},
        )[:, 1]
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), oof


def _threshold_for_recall(
    scores: np.ndarray, positive: np.ndarray, recall: float, covered: np.ndarray
) -> float:
    """The highest threshold at which ``recall`` of the positives are flagged (by it or ``covered``)."""
    need = math.ceil(recall * positive.sum())
    already = int((positive & covered).sum())
    rest = np.sort(scores[positive & ~covered])[::-1]
    k = need - already
    if k <= 0 or len(rest) == 0:
        return 0.5
    k = min(k, len(rest))
    return float(min(0.5, rest[k - 1]))


def train_model(
    examples: Sequence[Example],
    rules: RiskRules | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] | None = None,
    calibration: Sequence[Example] = (),
) -> LinearModel:
    """Train on the given examples (the caller makes sure no held-out line is among them).

    ``calibration``: labelled messages never trained on (the held-out split) on which the risk
    thresholds are chosen; without enough of them, out-of-fold scores of the training split are used.
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer

    say = progress or log.info
    rules = rules or load_rules()
    config = config or TrainConfig.load()
    t0 = time.perf_counter()
    say(f"triage training: {len(examples)} messages")
    feats, rule_levels = _featurize(examples, rules)
    df: Counter[str] = Counter()
    for f in feats:
        df.update(f.keys())
    keep = {k for k, v in df.items() if v >= config.min_df or k[:2] in ("c:", "r:", "t:", "s:", "a:")}
    feats = [{k: v for k, v in f.items() if k in keep} for f in feats]
    dv = DictVectorizer(dtype=np.float32)
    counts = dv.fit_transform(feats)
    counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as in LinearModel.vector
    tfidf = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True)
    x = tfidf.fit_transform(counts).tocsr()
    say(f"triage training: {x.shape[1]} features ({time.perf_counter() - t0:.1f}s)")

    weights = np.array([config.counsellor_weight if e.batch == COUNSELLOR else 1.0 for e in examples])
    rank = np.array([e.risk.rank for e in examples])
    y_cat = np.array([CATEGORIES.index(e.category.value) for e in examples])

    cat_w, cat_b = _category_head(x, y_cat, weights, config)
    say(f"triage training: category head ({time.perf_counter() - t0:.1f}s)")

    # Ordinal risk heads, and their out-of-fold scores on the training split for the thresholds.
    level_w, level_b, oof = [], [], {}
    for name in LEVELS:
        y = (rank >= Risk(name).rank).astype(np.int64)
        coef, bias, oof[name] = _binary_head(x, y, weights, config)
        level_w.append(coef)
        level_b.append(bias)
    say(f"triage training: risk heads and out-of-fold scores ({time.perf_counter() - t0:.1f}s)")
    # The rules are written while looking at training messages, so they cover the training split
    # better than new messages: by default the thresholds are chosen for the model alone.
    rule_rank = (
        np.array([r.rank for r in rule_levels]) if config.thresholds_with_rules else np.zeros(len(rank))
    )
    escalate = oof["urgent"] ** 0.75 * oof["elevated"] ** 0.25  # as Prediction.escalate
    thresholds = {
        "elevated": _threshold_for_recall(oof["elevated"], rank >= 1, config.elevated_recall, rule_rank >= 1),
        "urgent": _threshold_for_recall(escalate, rank >= 2, config.escalate_recall, rule_rank >= 2),
        "context": _threshold_for_recall(escalate, rank >= 2, config.context_recall, rule_rank >= 2),
        "imminent": _threshold_for_recall(oof["imminent"], rank >= 3, config.imminent_recall, rule_rank >= 3),
    }
    flagged = (escalate >= thresholds["urgent"]) | (rule_rank >= 2)
    none = rank == 0
    for target in (0.95, 0.97, 0.98, 0.99):
        t = _threshold_for_recall(escalate, rank >= 2, target, rule_rank >= 2)
        f = (escalate >= t) | (rule_rank >= 2)
        say(
            f"triage training: (at {target:.1%} recall the threshold would be {t:.3f}, flagging "
            f"{f[none].mean():.1%} of 'none' and {f[rank == 1].mean():.1%} of 'elevated')"
        )
    say(
        f"triage training: escalation threshold {thresholds['urgent']:.3f} for {config.escalate_recall:.1%} "
        f"out-of-fold recall; it flags {flagged[none].mean():.1%} of the 'none' and "
        f"{flagged[rank == 1].mean():.1%} of the 'elevated' training messages"
    )

    topic_counts: Counter[str] = Counter(t for e in examples for t in e.topics)
    topics = tuple(sorted(t for t, n in topic_counts.items() if n >= config.topic_min_examples))
    top_w = np.zeros((len(topics), x.shape[1]), dtype=np.float32)
    top_b = np.zeros(len(topics), dtype=np.float32)
    for i, t in enumerate(topics):
        y = np.array([1 if t in e.topics else 0 for e in examples])
        clf = _fit_binary(x, y, weights, config.c_topics, config.max_iter)
        top_w[i] = clf.coef_[0]
        top_b[i] = clf.intercept_[0]
    say(f"triage training: {len(topics)} topic heads ({time.perf_counter() - t0:.1f}s)")

    w_all = np.vstack([cat_w, np.vstack(level_w), top_w]).T.astype(np.float32)
    used = np.flatnonzero(np.abs(w_all).max(axis=1) > 1e-6)
    names = dv.get_feature_names_out()
    model = LinearModel(
        vocab={str(names[j]): i for i, j in enumerate(used)},
        idf=tfidf.idf_[used].astype(np.float32),
        weights=np.ascontiguousarray(w_all[used]),
        bias=np.concatenate([cat_b, np.array(level_b, dtype=np.float32), top_b]).astype(np.float32),
        categories=CATEGORIES,
        topics=topics,
        thresholds=thresholds,
        meta={
            "examples": len(examples),
            "counsellor_examples": int(sum(e.batch == COUNSELLOR for e in examples)),
            "train_seconds": round(time.perf_counter() - t0, 1),
            "version": MODEL_VERSION,
            "thresholds_from": "out-of-fold training scores",
            "min_words": config.min_words,
        },
    )
    if sum(e.risk.escalates for e in calibration) >= _MIN_CALIBRATION:
        _calibrate(model, calibration, rules, config, say)
    say(f"triage training: done in {time.perf_counter() - t0:.1f}s")
    return model


_MIN_CALIBRATION = 30  # escalating held-out messages needed to choose the thresholds on them


def _calibrate(
    model: LinearModel,
    examples: Sequence[Example],
    rules: RiskRules,
    config: TrainConfig,
    say: Callable[[str], None],
) -> None:
    """Choose the thresholds on messages never trained on, with the rules counted.

    Out-of-fold scores of the training split are optimistic once the lexicon has been written while
    reading those messages (the concept features know them), so the thresholds that matter for
    safety are set where the model meets messages it has not seen.
    """
    scores, levels, rule_rank, lengths = [], [], [], []
    for ex in examples:
        norm = normalize(ex.text)
        a = rules.assess(norm.folded)
        p = model.predict_features(message_features(norm, rules, a))
        scores.append((p.escalate, p.at_least["imminent"], p.at_least["elevated"]))
        levels.append(ex.risk.rank)
        rule_rank.append(a.level.rank)
        lengths.append(sum(1 for tok in norm.tokens if any(ch.isalpha() for ch in tok)))
    esc, imm, ele = (np.array(col) for col in zip(*scores, strict=True))
    rank, covered, words = np.array(levels), np.array(rule_rank), np.array(lengths)
    esc = np.where(words < config.min_words, -1.0, esc)  # never escalated by the model alone
    t = model.thresholds
    t["urgent"] = _threshold_for_recall(esc, rank >= 2, config.escalate_recall, covered >= 2)
    context = _threshold_for_recall(esc, rank >= 2, config.context_recall, covered >= 2)
    t["context"] = max(t["urgent"], context)  # the conversation window escalates at a stricter one
    t["imminent"] = _threshold_for_recall(imm, rank >= 3, config.imminent_recall, covered >= 3)
    t["elevated"] = _threshold_for_recall(ele, rank >= 1, config.elevated_recall, covered >= 1)
    flagged = (covered >= 2) | (esc >= t["urgent"])
    model.meta["thresholds_from"] = f"held-out ({len(examples)} messages)"
    say(
        f"triage training: thresholds chosen on {len(examples)} held-out messages: escalation "
        f"{t['urgent']:.3f} ({flagged[rank >= 2].mean():.1%} of urgent+imminent, "
        f"{flagged[rank == 0].mean():.1%} of 'none' escalated), context {t['context']:.3f}, "
        f"imminent {t['imminent']:.3f}, elevated {t['elevated']:.3f}"
    )


# --- cache ---------------------------------------------------------------------------------------


def _settings_files() -> list[Path]:
    return sorted(TRIAGE_CONTENT_DIR.glob("*.yaml"))


def model_key(
    corpus_dir: Path = CORPUS_DIR, extra: Path | None = None, config: TrainConfig | None = None
) -> str:
    """Hash of everything the trained weights depend on: the corpus, the counsellor labels, the
    lexicon and settings files, the training settings and MODEL_VERSION (not the source code)."""
    h = hashlib.sha256()
    h.update(MODEL_VERSION.encode())
    h.update(file_digest(corpus_files(corpus_dir)).encode())
    h.update(file_digest(_settings_files()).encode())
    h.update(json.dumps(asdict(config or TrainConfig.load()), sort_keys=True).encode())
    if extra is not None:
        h.update(b"extra\0" + Path(extra).read_bytes())
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    return Path(os.environ.get("TRIAGE_CACHE_DIR", "data/cache"))


def training_examples(corpus_dir: Path = CORPUS_DIR, extra: Path | None = None) -> list[Example]:
    return _train_split(load_corpus(corpus_dir)) + load_extra(extra)


def load_or_train(
    cache_dir: Path | None = None, corpus_dir: Path = CORPUS_DIR, extra: Path | None = None
) -> LinearModel:
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = model_key(corpus_dir, extra)
    path = cache_dir / f"triage-model-{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, LinearModel):
                return model
        except Exception:  # a corrupt or foreign file: retrain and overwrite
            log.warning("triage model cache %s unreadable; retraining", path.name)
    examples = training_examples(corpus_dir, extra)
    if not examples:
        raise RuntimeError(f"no training examples in {corpus_dir}")
    # Said at WARNING so that it shows in the terminal chat too: the first start waits for this.
    log.warning(
        "training the triage model from %d messages (first start or new data): about half a minute",
        len(examples),
    )
    model = train_model(examples, calibration=_test_split(load_corpus(corpus_dir)))
    model.meta["key"] = key
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".triage-model-", suffix=".tmp", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    # Keep the cache small: models of earlier data go (the newest few stay, e.g. with and without
    # counsellor labels).
    old = sorted(cache_dir.glob("triage-model-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[3:]:
        try:
            stale.unlink()
        except OSError:
            pass
    return model
