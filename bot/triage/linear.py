"""The exported model: vocabulary, IDF weights and coefficients as plain numpy arrays, so scoring is
a dictionary lookup and a small matrix product and loading the cached model does not import
scikit-learn."""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.domain import Category, Risk
from bot.triage.features import _WORD_CACHE, _word_ngrams
from bot.triage.stem import stem

log = logging.getLogger(__name__)

# Bump when the features, the training or the exported format change (part of the cache key).
MODEL_VERSION = "triage-model-7"

CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
RISKS: tuple[str, ...] = tuple(r.value for r in Risk)
LEVELS: tuple[str, ...] = ("elevated", "urgent", "imminent")  # ordinal heads: P(risk >= level)


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
