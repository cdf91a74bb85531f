"""Folding of short texts and of the patterns matched against them (intents, helpline, profile)."""

from __future__ import annotations

import unicodedata

_LETTERS = str.maketrans("əışçğöü", "eiscgou")


def fold(text: str) -> str:
    """Lower-case and strip Azerbaijani/Turkish diacritics, for matching short intents."""
    text = text.replace("İ", "i").replace("I", "ı").lower()
    text = text.translate(_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def fold_pattern(pattern: str) -> str:
    """Fold a regular expression like the text it is matched against, but leave its escapes alone
    (lower-casing "\\W" would turn "not a word character" into "a word character")."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(fold(pattern[i]))
        i += 1
    return "".join(out)
