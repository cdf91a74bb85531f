"""Language detection for short chat messages: the bot's own detector against lingua-language-detector.

    .venv/bin/pip install lingua-language-detector   # only for this measurement
    .venv/bin/python benchmarks/language_bench.py

Every message of the triage corpus and the test data sets that names its language (az, ru, en) is
given to: the bot's detector (``bot.triage.language``: Azerbaijani letters and words, Cyrillic,
Russian in Latin letters, Turkish-keyboard spellings), lingua restricted to Azerbaijani, Russian,
English and Turkish (Turkish counted as Azerbaijani: a Turkish keyboard), and the two combined
(lingua only where the bot's detector falls back to its default). Accuracy per language and per
length (up to 3 words, 4-8, more), and the time per message.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def messages() -> list[tuple[str, str]]:
    corpus, tests = ROOT / "bot/content/triage/corpus", ROOT / "tests/data"
    files = [*sorted(corpus.glob("*.jsonl")), *sorted(tests.glob("*.jsonl"))]
    seen: set[str] = set()
    out = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            text, lang = row.get("text"), row.get("lang")
            if isinstance(text, str) and lang in ("az", "ru", "en") and text not in seen:
                seen.add(text)
                out.append((text, lang))
    return out


def bucket(text: str) -> str:
    n = len(text.split())
    return "1-3 words" if n <= 3 else "4-8 words" if n <= 8 else "9+ words"


def main() -> int:
    from bot.triage.language import detect_language
    from bot.triage.normalize import normalize

    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        print("lingua-language-detector is not installed (pip install lingua-language-detector)")
        return 2
    detector = LanguageDetectorBuilder.from_languages(
        Language.AZERBAIJANI, Language.RUSSIAN, Language.ENGLISH, Language.TURKISH
    ).build()
    codes = {Language.AZERBAIJANI: "az", Language.TURKISH: "az"}
    codes.update({Language.RUSSIAN: "ru", Language.ENGLISH: "en"})

    def ours(text: str) -> str:
        found = detect_language(normalize(text))
        return "az" if found == "tr" else found  # a Turkish keyboard: the bot answers in Azerbaijani

    def theirs(text: str) -> str:
        found = detector.detect_language_of(text)
        return codes.get(found, "az") if found is not None else "az"

    def combined(text: str) -> str:  # lingua where the bot's detector finds none of the three
        mine = ours(text)
        return mine if mine in ("az", "ru", "en") else theirs(text)

    data = messages()
    print(f"{len(data)} messages with a known language: {dict(Counter(lang for _, lang in data))}")
    for name, fn in (("bot", ours), ("lingua", theirs), ("bot + lingua", combined)):
        right = Counter()
        total = Counter()
        start = time.perf_counter()
        for text, lang in data:
            got = fn(text)
            for key in (lang, bucket(text), "all"):
                total[key] += 1
                right[key] += got == lang
        per = (time.perf_counter() - start) / len(data) * 1000
        keys = ("all", "az", "ru", "en", "1-3 words", "4-8 words", "9+ words")
        cells = ", ".join(f"{k} {100 * right[k] / total[k]:.1f}%" for k in keys)
        print(f"{name:13s} {cells}; {per:.2f} ms/message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
