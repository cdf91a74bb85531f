"""Which language a message is written in: az, ru, en, tr, a few others, or "unknown".

Azerbaijani typed without its special letters looks much like Turkish; the two are told apart by
words Turkish does not share (ben/mən, değil/deyil, için/üçün, çok/çox), by the Turkish present
tense "-yor", and by the letters ə, q and x that Turkish does not have.  Azerbaijani written in the
old Cyrillic alphabet (or on a Russian keyboard) counts as Azerbaijani, other Cyrillic as Russian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.triage.normalize import Normalized, fold_word
from bot.triage.resources import load_yaml

_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LATIN_RE = re.compile(r"[a-zçğıöşüəäéèêàáâîíñß]")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_SCRIPTS = (
    ("ka", re.compile(r"[\u10a0-\u10ff]")),
    ("hy", re.compile(r"[\u0530-\u058f]")),
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)


@dataclass(frozen=True)
class _LangData:
    az: frozenset[str]
    tr: frozenset[str]
    en: frozenset[str]
    ru_latin: frozenset[str]
    others: dict[str, frozenset[str]]
    tr_suffix: re.Pattern[str]
    az_suffix: re.Pattern[str]
    uk_letters: str


def _folded_set(words: list[str]) -> frozenset[str]:
    out: set[str] = set()
    for w in words:
        w = str(w).lower()
        out.add(w)
        out.add(fold_word(w))
    return frozenset(out)


@lru_cache(maxsize=1)
def _data() -> _LangData:
    d = load_yaml("language.yaml")
    return _LangData(
        az=_folded_set(d.get("az") or []),
        tr=_folded_set(d.get("tr") or []),
        en=frozenset(str(w).lower() for w in d.get("en") or []),
        ru_latin=frozenset(str(w).lower() for w in d.get("ru_latin") or []),
        others={code: frozenset(str(w).lower() for w in d.get(code) or []) for code in ("de", "fr", "es")},
        tr_suffix=re.compile(str(d.get("tr_suffix_regex") or r"(?!x)x")),
        az_suffix=re.compile(str(d.get("az_suffix_regex") or r"(?!x)x")),
        uk_letters=str(d.get("uk_letters") or ""),
    )


def detect_language(norm: Normalized) -> str:
    text = norm.lower
    if norm.az_cyrillic:
        # Transliterated already: letters are Latin now, but the person wrote Azerbaijani.
        return "az"
    latin = len(_LATIN_RE.findall(text))
    cyr = len(_CYRILLIC_RE.findall(text))
    if cyr > latin:
        d = _data()
        return "uk" if any(ch in d.uk_letters for ch in text) else "ru"
    if latin == 0:
        for code, rx in _SCRIPTS:
            if rx.search(text):
                return code
        return "unknown"
    return _latin_language(text)


def _latin_language(text: str) -> str:
    d = _data()
    words = [
        w.replace("’", "'") for w in _WORD_RE.findall(text.replace("’", "'")) if not _CYRILLIC_RE.search(w)
    ]
    scores = {"az": 0.0, "tr": 0.0, "en": 0.0, "ru": 0.0, "de": 0.0, "fr": 0.0, "es": 0.0}
    if "ə" in text:
        scores["az"] += 3.0
    for raw in words:
        # Lowercase English "I" became dotless "ı" in the Azerbaijani lowercasing.
        w = raw.replace("ı", "i")
        f = fold_word(raw)
        if w in d.en or raw in d.en:
            scores["en"] += 1.0
        if raw in d.az or f in d.az:
            scores["az"] += 1.0
        if raw in d.tr or f in d.tr:
            scores["tr"] += 1.0
        if raw in d.ru_latin:
            scores["ru"] += 1.0
        if d.tr_suffix.search(raw) or d.tr_suffix.search(f):
            scores["tr"] += 1.5
        elif d.az_suffix.search(raw):
            scores["az"] += 0.5
        if ("x" in raw or ("q" in raw and "qu" not in raw)) and w not in d.en:
            scores["az"] += 0.75
        for code, vocab in d.others.items():
            if raw in vocab:
                scores[code] += 1.0
    best = max(scores, key=lambda k: scores[k])
    top = scores[best]
    if top <= 0:
        return "az"
    if best == "az" or scores["az"] >= top:
        return "az"
    if best in ("de", "fr", "es") and top < 2:
        return "az"
    return best
