"""A light stemmer for the folded text: Azerbaijani (and Turkish) and Russian inflection stripped.

The folded form (see :mod:`bot.triage.normalize`) is plain Latin for every language: ə->e, ı->i,
ğ/g->q, h->x, Russian transliterated.  The stemmer strips the longest known ending, at most
``_PASSES`` times, as long as ``_MIN_STEM`` letters remain (two after an ending of three letters or
more), so that "içdim / içəcəm / içmişəm /
icdim" share the word feature "ic", "öldürəcəm / öldürdüm" share "oldur", and "убью / убить / убил"
share "ub".  It over-strips now and then; the character n-grams of the model keep the detail.  The
endings are data (``stem_endings`` in bot/content/triage/normalize.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.triage.normalize import az_lower, fold_word
from bot.triage.resources import load_yaml

_MIN_STEM = 3
_PASSES = 3


@dataclass(frozen=True)
class _Endings:
    by_length: tuple[tuple[int, frozenset[str]], ...]  # longest first


@lru_cache(maxsize=1)
def _endings() -> _Endings:
    data = load_yaml("normalize.yaml").get("stem_endings") or {}
    found: set[str] = set()
    for words in data.values():
        for w in words or ():
            f = fold_word(az_lower(str(w)))
            if f:
                found.add(f)
    lengths = sorted({len(e) for e in found}, reverse=True)
    return _Endings(tuple((n, frozenset(e for e in found if len(e) == n)) for n in lengths))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one folded word (cached: chat vocabularies are small)."""
    if not word.isalpha() or len(word) <= _MIN_STEM:
        return word
    endings = _endings().by_length
    for _ in range(_PASSES):
        for n, group in endings:
            # a long, unambiguous ending may leave a two-letter stem (iç-dim, öl-mək, et-mişəm)
            keep = _MIN_STEM - 1 if n >= 3 else _MIN_STEM
            if len(word) - n >= keep and word[-n:] in group:
                word = word[:-n]
                break
        else:
            break
    return word


def stems(folded: str) -> list[str]:
    return [stem(w) for w in folded.split()]
