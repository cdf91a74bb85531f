"""Text normalisation for triage.

Messages arrive in Azerbaijani typed every possible way: with the letters ə ş ç ğ ı ö ü, without
them, with chat spellings ("w" for ş, "sh", doubled letters, "q" for "g"), in the old Azerbaijani
Cyrillic alphabet, in Russian, in English, with emoji.  Everything downstream (risk rules, the
classifier, language detection) works on a few views of the message built here:

* ``lower``: Azerbaijani-aware lowercase (İ -> i, I -> ı), Azerbaijani Cyrillic transliterated to
  Latin, special letters kept.  Used for language detection.
* ``folded``: the matching form.  Special letters folded to plain Latin (ə->e, ş->s, ç->c, ğ->g,
  ı->i, ö->o, ü->u), chat digraphs folded (w->s, sh->s, ch->c, gh->g, zh->j, kh->x), g and q
  merged, h and x merged, runs of the same letter squeezed to one letter, punctuation removed, emoji
  kept as separate tokens, chat spellings mapped to their standard form (from
  ``bot/content/triage/normalize.yaml``).  Russian Cyrillic is transliterated to Latin the way people
  type Russian in Latin letters (ж->j, х->x, ч->c, ш->s, я->ya ...), so "не хочу жить", "ne xochu
  jit" and "ne hochu zhit" all fold to "ne xocu jit", just as "özümü" and "ozumu" both fold to
  "ozumu".
* ``stems`` (:mod:`bot.triage.stem`): the folded words with Azerbaijani / Turkish and Russian
  inflection stripped, for the word features of the model.

Rule patterns are folded with :func:`fold_pattern`, which applies the same mapping to the literal
letters of a regular expression, so a lexicon entry written as "özümü öldürmək" matches
"ozumu oldurmek", "özümü öldürmək", "Өзүмү өлдүрмәк" and "ozzumu oldurmekk" alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.triage.resources import load_yaml

# --- Cyrillic ---------------------------------------------------------------------------------

# Letters that exist in Azerbaijani Cyrillic but not in Russian.
AZ_CYRILLIC_MARKERS = frozenset("әҹҝғһөүјӘҸҜҒҺӨҮЈ")

_AZ_CYR_TO_LAT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "q",
    "ғ": "ğ",
    "д": "d",
    "е": "e",
    "ә": "ə",
    "ж": "j",
    "з": "z",
    "и": "i",
    "ы": "ı",
    "ј": "y",
    "к": "k",
    "ҝ": "g",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "ө": "ö",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ү": "ü",
    "ф": "f",
    "х": "x",
    "һ": "h",
    "ч": "ç",
    "ҹ": "c",
    "ш": "ş",
    "й": "y",
    "ё": "yo",
    "ю": "yu",
    "я": "ya",
    "ц": "ts",
    "щ": "şç",
    "ъ": "",
    "ь": "",
    "э": "e",
    "ҡ": "k",
    "ӯ": "u",
}
_AZ_CYR_TABLE = str.maketrans(_AZ_CYR_TO_LAT)

# Russian Cyrillic -> Latin, as Russian is typed in Latin letters (before folding: ч -> ch -> c ...).
_RU_CYR_TO_LAT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "x",
    "ц": "c",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ы": "i",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ў": "u",
}
_RU_CYR_TABLE = str.maketrans(_RU_CYR_TO_LAT)

_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_CYRILLIC_WORD_RE = re.compile(r"[\u0400-\u04ff]+")

# --- Latin folding ----------------------------------------------------------------------------


def _build_latin_fold() -> dict[int, str]:
    table: dict[int, str] = {}
    # Generic: strip accents from Latin letters (é -> e, â -> a ...).
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        if not ch.isalpha():
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch and base.isascii():
            table[cp] = base.lower()
    # Azerbaijani / Turkish specifics.
    table.update(
        {
            ord("ə"): "e",
            ord("Ə"): "e",
            ord("ä"): "e",
            ord("ş"): "s",
            ord("ç"): "c",
            ord("ğ"): "g",
            ord("ı"): "i",
            ord("ö"): "o",
            ord("ü"): "u",
            ord("ё"): "е",
        }
    )
    return table


_LATIN_FOLD = _build_latin_fold()

# Chat digraphs and letter merges applied to Latin text after accent folding.  Order matters.
_DIGRAPHS = (
    ("w", "s"),
    ("sh", "s"),
    ("ch", "c"),
    ("gh", "g"),
    ("zh", "j"),
    ("kh", "x"),
    ("h", "x"),
    ("g", "q"),
)

_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufe0e\ufe0f\u00ad\U0001f3fb-\U0001f3ff]")
_APOSTROPHE_RE = re.compile("['’`ʼ‘]")
_REPEAT_RE = re.compile(r"([^\W\d_])\1+")
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d]"
)
_EMOJI_REPEAT_RE = re.compile("([\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff])(?:\\s*\\1)+")
_NON_WORD_RE = re.compile(r"[^\w\s\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]+")
_SPACES_RE = re.compile(r"\s+")
_TOKEN_RE = re.compile(r"\S+")


def az_lower(text: str) -> str:
    """Lowercase the Azerbaijani way: dotted İ -> i, dotless I -> ı, then ordinary lowercase."""
    return text.replace("İ", "i").replace("I", "ı").lower()


def _az_cyrillic_by_words(lowered: str) -> bool:
    """Decide whether Cyrillic text without the Azerbaijani-only letters is Azerbaijani anyway.

    People with a Russian keyboard type "мен олмек истейирем".  Transliterate the Cyrillic words and
    compare how many look Azerbaijani and how many look Russian.
    """
    words = _CYRILLIC_WORD_RE.findall(lowered)
    if not words:
        return False
    lex = _lexicon()
    ru_hits = sum(1 for w in words if w in lex.ru_words)
    az_hits = 0
    for w in words:
        latin = fold_word(w.translate(_AZ_CYR_TABLE))
        if latin in lex.az_cyr_words or lex.az_cyr_suffix.search(latin):
            az_hits += 1
    return az_hits >= 2 and az_hits > ru_hits * 1.5


@dataclass(frozen=True)
class Normalized:
    raw: str
    lower: str  # az-aware lowercase, az Cyrillic -> Latin, special letters kept
    folded: str  # matching form: " token token ... " (leading and trailing space)
    az_cyrillic: bool  # the text was written in Azerbaijani Cyrillic
    emoji: tuple[str, ...]

    @property
    def tokens(self) -> list[str]:
        return self.folded.split()


def fold_word(text: str) -> str:
    """Fold a lowercase Latin/Cyrillic string: Russian Cyrillic transliterated, accents, digraphs,
    merged letters, squeezed repeats."""
    text = text.translate(_RU_CYR_TABLE).translate(_LATIN_FOLD)
    for a, b in _DIGRAPHS:
        text = text.replace(a, b)
    return _REPEAT_RE.sub(r"\1", text)


def _fold_text(lowered: str) -> str:
    text = _APOSTROPHE_RE.sub("", lowered)
    text = _EMOJI_RE.sub(lambda m: f" {m.group(0)} ", text)
    text = _NON_WORD_RE.sub(" ", text)
    text = text.replace("_", " ")
    text = fold_word(text)
    # Squeeze repeated emoji ("😭😭😭" -> "😭").
    text = _EMOJI_REPEAT_RE.sub(r"\1", text)
    tokens = _TOKEN_RE.findall(text)
    chat = _lexicon().chat_words
    if chat:
        tokens = [chat.get(t, t) for t in tokens]
    return " " + " ".join(tokens) + " "


def normalize(text: str) -> Normalized:
    raw = text or ""
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", raw))
    lowered = az_lower(text)
    az_cyr = False
    if _CYRILLIC_RE.search(lowered):
        if any(ch in AZ_CYRILLIC_MARKERS for ch in lowered) or _az_cyrillic_by_words(lowered):
            lowered = lowered.translate(_AZ_CYR_TABLE)
            az_cyr = True
    emoji = tuple(_EMOJI_RE.findall(text))
    return Normalized(raw=raw, lower=lowered, folded=_fold_text(lowered), az_cyrillic=az_cyr, emoji=emoji)


def fold(text: str) -> str:
    """The folded matching form of a text, without the surrounding spaces."""
    return normalize(text).folded.strip()


# --- Folding regular expressions ----------------------------------------------------------------

_QUANTIFIERS = "?*+{"


def fold_pattern(pattern: str) -> str:
    """Apply the text folding to the literal letters of a regular expression.

    Escapes (``\\b``, ``\\s``, ``\\w``...) and the syntax of groups are left alone; letters inside
    character classes are folded letter by letter; runs of literal letters are folded like words
    (digraphs, squeezed repeats).  Russian Cyrillic literals are transliterated like the text; a
    letter that becomes two (я -> ya) or none (ь) turns a character class into an alternation.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            j = i + 1
            buf = ["["]
            negated = j < n and pattern[j] == "^"
            if negated:
                buf.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                buf.append("]")
                j += 1
            alternatives: list[str] = []  # letters that fold to several letters (я -> ya) or none (ь)
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\" and j + 1 < n:
                    buf.append(pattern[j : j + 2])
                    j += 2
                    continue
                c = pattern[j]
                if c.isalpha():
                    folded = fold_word(az_lower(c))
                    if len(folded) == 1 or negated:
                        buf.append(folded[:1] or c)
                    elif folded not in alternatives:
                        alternatives.append(folded)
                else:
                    buf.append(c)
                j += 1
            buf.append("]")
            cls = "".join(buf) if len(buf) > 2 else ""
            if alternatives:
                out.append("(?:" + "|".join(([cls] if cls else []) + alternatives) + ")")
            else:
                out.append(cls)
            i = j + 1
            continue
        if ch == "(" and pattern.startswith("(?", i):
            # Keep group syntax such as (?:  (?=  (?!  (?<=  (?<!  (?P<name>  verbatim.
            m = re.match(r"\(\?(?:P<\w+>|<[=!]|[:=!>]|[a-zA-Z]+[:)])", pattern[i:])
            if m:
                out.append(m.group(0))
                i += len(m.group(0))
                continue
        if ch.isalpha():
            j = i
            while j < n and pattern[j].isalpha():
                j += 1
            run = pattern[i:j]
            quantified = j < n and pattern[j] in _QUANTIFIERS
            if quantified:
                # Fold the quantified last letter separately so it stays the last character.
                head, last = fold_word(az_lower(run[:-1])), fold_word(az_lower(run[-1]))
                if len(last) != 1:
                    out.append(head + f"(?:{last})")
                else:
                    out.append(_REPEAT_RE.sub(r"\1", head + last))
            else:
                out.append(fold_word(az_lower(run)))
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# --- Lexicon for normalisation -------------------------------------------------------------------


@dataclass(frozen=True)
class _NormLexicon:
    chat_words: dict[str, str]
    ru_words: frozenset[str]
    az_cyr_words: frozenset[str]
    az_cyr_suffix: re.Pattern[str]


@lru_cache(maxsize=1)
def _lexicon() -> _NormLexicon:
    data = load_yaml("normalize.yaml")
    chat: dict[str, str] = {}
    for canonical, variants in (data.get("chat_words") or {}).items():
        target = " ".join(fold_word(az_lower(w)) for w in str(canonical).split())
        for v in variants or []:
            key = fold_word(az_lower(str(v)))
            if key and key != target:
                chat[key] = target
    ru_words = frozenset(str(w).replace("ё", "е") for w in data.get("russian_words") or [])
    az_words = frozenset(fold_word(az_lower(str(w))) for w in data.get("azerbaijani_cyrillic_words") or [])
    suffix = re.compile(str(data.get("azerbaijani_suffix_regex") or r"(?!x)x"))
    return _NormLexicon(chat_words=chat, ru_words=ru_words, az_cyr_words=az_words, az_cyr_suffix=suffix)
