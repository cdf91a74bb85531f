"""The labelled triage corpus (bot/content/triage/corpus/*.jsonl)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.domain import Category, Risk
from bot.triage.resources import CORPUS_DIR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    text: str
    category: Category
    risk: Risk
    topics: tuple[str, ...]
    lang: str
    who: str
    split: str
    source: str


def corpus_files(corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    return sorted(p for p in corpus_dir.glob("*.jsonl") if p.is_file())


def corpus_digest(files: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def load_corpus(corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    """All well-formed examples.  Lines being written right now (half a JSON object) are skipped."""
    out: list[Example] = []
    seen: set[tuple[str, str]] = set()
    bad = 0
    for path in corpus_files(corpus_dir):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
                text = str(row["text"]).strip()
                ex = Example(
                    text=text,
                    category=Category(row["category"]),
                    risk=Risk(row["risk"]),
                    topics=tuple(str(t) for t in row.get("topics") or ()),
                    lang=str(row.get("lang", "az")),
                    who=str(row.get("who", "")),
                    split="test" if row.get("split") == "test" else "train",
                    source=path.name,
                )
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            key = (ex.text, ex.split)
            if not text or key in seen:
                continue
            seen.add(key)
            out.append(ex)
    if bad:
        log.warning("triage corpus: skipped %d malformed line(s)", bad)
    return out


def train_split(examples: Iterable[Example]) -> list[Example]:
    """The training examples: never the held-out test lines (nor a text that also appears in test)."""
    examples = list(examples)
    test_texts = {e.text.casefold() for e in examples if e.split == "test"}
    return [e for e in examples if e.split == "train" and e.text.casefold() not in test_texts]


def test_split(examples: Iterable[Example]) -> list[Example]:
    return [e for e in examples if e.split == "test"]
