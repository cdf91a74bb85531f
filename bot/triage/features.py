"""Features of a message for the trained model (all over the *folded* text of
:mod:`bot.triage.normalize`, so every spelling of Azerbaijani and Russian in Cyrillic or Latin letters
meets the same features):

* character n-grams (2 to 5 letters) inside each word, which cope with suffixes and typos;
* word unigrams and bigrams over the stems of :mod:`bot.triage.stem`;
* the concepts and rules of the risk lexicon that are found (``c:means_pills``, ``r:suicide_plan``),
  which are the same in every language, and the topic keywords of topics.yaml.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from bot.triage.audience import markers
from bot.triage.normalize import Normalized
from bot.triage.risk import RiskAssessment, RiskRules
from bot.triage.stem import stem
from bot.triage.topics import load_topic_keywords

log = logging.getLogger(__name__)

_NGRAM_MIN, _NGRAM_MAX = 2, 5
_MAX_WORD_FOR_NGRAMS = 20
_SYMBOLIC_WEIGHT = 3  # a concept or rule weighs like three occurrences of a word
_WORD_CACHE = 50_000


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
