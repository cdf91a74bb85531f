"""The labelled triage corpus (bot/content/triage/corpus/*.jsonl) and counsellor labels.

Each line: ``{"text", "risk", "category", "topics"?, "lang"?, "who"?, "style"?, "family"?,
"source"?, "batch"?, "split"?}``.  ``source`` names where a line comes from (an independent batch
such as ``T3``, or the in-house file it sits in); ``batch`` is ``independent`` for messages written
by helpers who never saw the rules, ``in-house`` otherwise.  Lines marked ``"split": "test"`` form
the held-out split: they are never trained on, and a training line with the same normalised text as
a held-out line is dropped.

Counsellor labels (``bot.triage.load_triager(extra=PATH)``) are JSON lines with ``text``, ``risk``,
``category`` and optionally ``lang`` and ``topics``; they always go to training.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.domain import Category, Risk
from bot.triage.normalize import fold
from bot.triage.resources import CORPUS_DIR

log = logging.getLogger(__name__)

INDEPENDENT = "independent"
IN_HOUSE = "in-house"
COUNSELLOR = "counsellor"


@dataclass(frozen=True)
class Example:
    text: str
    category: Category
    risk: Risk
    topics: tuple[str, ...] = ()
    lang: str = "az"
    who: str = ""
    split: str = "train"
    source: str = ""
    batch: str = IN_HOUSE
    style: str = ""
    family: str = ""


def corpus_files(corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    return sorted(p for p in corpus_dir.glob("*.jsonl") if p.is_file())


def file_digest(files: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def corpus_digest(files: Iterable[Path]) -> str:  # kept for callers of the earlier name
    return file_digest(files)


def _example(row: dict, default_source: str, split: str | None = None) -> Example:
    text = str(row["text"]).strip()
    if not text:
        raise ValueError("empty text")
    return Example(
        text=text,
        category=Category(row["category"]),
        risk=Risk(row["risk"]),
        topics=tuple(str(t) for t in row.get("topics") or ()),
        lang=str(row.get("lang") or "az"),
        who=str(row.get("who") or ""),
        split=split or ("test" if row.get("split") == "test" else "train"),
        source=str(row.get("source") or default_source),
        batch=str(row.get("batch") or IN_HOUSE),
        style=str(row.get("style") or ""),
        family=str(row.get("family") or ""),
    )


def read_labelled(path: Path, split: str | None = None, batch: str | None = None) -> list[Example]:
    """Well-formed labelled lines of one JSONL file (half-written or malformed lines are skipped)."""
    out: list[Example] = []
    bad = 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if isinstance(row, dict) and "conversation" in row:
                continue  # a conversation, not a single message (see evaluate.load_conversation_lines)
            if batch is not None:
                row = {**row, "batch": batch, "source": row.get("source") or batch}
            out.append(_example(row, Path(path).stem, split))
        except (ValueError, KeyError, TypeError, AttributeError):
            bad += 1
    if bad:
        log.warning("triage: skipped %d malformed line(s) in %s", bad, Path(path).name)
    return out


def load_corpus(corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    """All examples, de-duplicated on the normalised text (a held-out line wins over a training one)."""
    rows = [ex for path in corpus_files(corpus_dir) for ex in read_labelled(path)]
    rows.sort(key=lambda e: e.split != "test")  # stable: held-out lines first
    seen: set[str] = set()
    out: list[Example] = []
    for ex in rows:
        key = fold(ex.text)
        if key in seen:
            continue
        seen.add(key)
        out.append(ex)
    return out


def load_extra(path: Path | None) -> list[Example]:
    """Counsellor labels (always training data)."""
    if path is None:
        return []
    return read_labelled(Path(path), split="train", batch=COUNSELLOR)


def train_split(examples: Iterable[Example]) -> list[Example]:
    """The training examples: never a held-out line (nor a text that also appears among them)."""
    examples = list(examples)
    test_texts = {fold(e.text) for e in examples if e.split == "test"}
    return [e for e in examples if e.split == "train" and fold(e.text) not in test_texts]


def test_split(examples: Iterable[Example]) -> list[Example]:
    return [e for e in examples if e.split == "test"]
