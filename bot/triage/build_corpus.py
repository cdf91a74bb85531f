"""Merge independently written training batches into the triage corpus.

``python -m bot.triage.build_corpus DIR...`` reads every ``T*.jsonl`` batch (single messages, the
format of the labelling guide) and ``*_conversations.jsonl`` file in the given directories and writes

* ``bot/content/triage/corpus/indep_<batch>.jsonl``: one labelled message per line with its
  ``source`` (the batch name), ``batch`` (``independent``), ``style``, ``who`` and ``family`` kept,
  and a ``split``: about 15% of every batch, stratified by risk level and category, is marked
  ``"split": "test"`` (the held-out split, never trained on).  The split of a batch depends only on
  its own lines, so re-running after another batch arrived changes nothing in the others.
* ``bot/content/triage/corpus/conversations/<batch>.jsonl``: the conversations, unchanged apart from
  ``source`` and ``split`` (they are used for evaluation and tests only, never for training).

Duplicates (the same text after normalisation) across all corpus files are dropped here, keeping
the first occurrence (a held-out line wins over a training one); malformed lines and lines whose
labels are not in the taxonomy are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from bot.domain import Category, Risk
from bot.triage.normalize import fold
from bot.triage.resources import CORPUS_DIR

log = logging.getLogger(__name__)

TEST_SHARE = 0.15
SEED = 116111
_KEEP = ("text", "risk", "category", "topics", "lang", "style", "who", "family")


def _valid(row: dict) -> bool:
    try:
        Risk(row["risk"])
        Category(row["category"])
        return isinstance(row["text"], str) and bool(row["text"].strip())
    except (KeyError, ValueError, TypeError):
        return False


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    rows, bad = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    return rows, bad


def stratified_test_mask(rows: list[dict], share: float = TEST_SHARE, seed: int = SEED) -> list[bool]:
    """True for the held-out lines: ``share`` of every risk x category stratum (sklearn's split).

    Strata too small to split (fewer than two lines) are merged by risk level alone, or else into
    the largest stratum.
    """
    from sklearn.model_selection import train_test_split

    if len(rows) < 10:
        return [False] * len(rows)
    strata = [f"{r['risk']}|{r['category']}" for r in rows]
    counts = Counter(strata)
    strata = [s if counts[s] >= 2 else s.split("|")[0] for s in strata]
    counts = Counter(strata)
    commonest = counts.most_common(1)[0][0]
    strata = [s if counts[s] >= 2 else commonest for s in strata]
    idx = list(range(len(rows)))
    _, test_idx = train_test_split(idx, test_size=share, random_state=seed, stratify=strata)
    test = set(test_idx)
    return [i in test for i in idx]


def _existing_texts(corpus_dir: Path, skip: set[str]) -> set[str]:
    out: set[str] = set()
    for path in sorted(corpus_dir.glob("*.jsonl")):
        if path.name in skip:
            continue
        rows, _ = read_jsonl(path)
        out.update(fold(str(r.get("text", ""))) for r in rows)
    return out


def build(sources: list[Path], corpus_dir: Path = CORPUS_DIR) -> dict[str, Counter[str]]:
    batches = sorted(p for d in sources for p in d.glob("T*.jsonl") if "conversation" not in p.name)
    conversations = sorted(p for d in sources for p in d.glob("*_conversations.jsonl"))
    out_names = {f"indep_{p.stem}.jsonl" for p in batches}
    seen = _existing_texts(corpus_dir, skip=out_names)
    stats: dict[str, Counter[str]] = {}
    for path in batches:
        rows, bad = read_jsonl(path)
        good = [r for r in rows if _valid(r)]
        st = stats.setdefault(path.stem, Counter())
        st["read"], st["malformed"], st["invalid"] = len(rows) + bad, bad, len(rows) - len(good)
        test = stratified_test_mask(good)
        # held-out lines first, so a text that is both in test and train stays in test only
        order = sorted(range(len(good)), key=lambda i: not test[i])
        kept: list[tuple[int, dict]] = []
        for i in order:
            key = fold(good[i]["text"])
            if key in seen:
                st["duplicate"] += 1
                continue
            seen.add(key)
            row = {k: good[i][k] for k in _KEEP if k in good[i]}
            row["text"] = row["text"].strip()
            row["source"] = path.stem
            row["batch"] = "independent"
            row["split"] = "test" if test[i] else "train"
            kept.append((i, row))
            st[row["split"]] += 1
        kept.sort()
        target = corpus_dir / f"indep_{path.stem}.jsonl"
        with target.open("w", encoding="utf-8") as fh:
            for _, row in kept:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    conv_dir = corpus_dir / "conversations"
    if conversations:
        conv_dir.mkdir(exist_ok=True)
    for path in conversations:
        rows, bad = read_jsonl(path)
        good = [r for r in rows if isinstance(r.get("conversation"), list) and _valid({**r, "text": "x"})]
        st = stats.setdefault(path.stem, Counter())
        st["read"], st["kept"] = len(rows) + bad, len(good)
        with (conv_dir / path.name).open("w", encoding="utf-8") as fh:
            for r in good:
                fh.write(json.dumps({**r, "source": path.stem.split("_")[0]}, ensure_ascii=False) + "\n")
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.triage.build_corpus")
    parser.add_argument("sources", nargs="+", type=Path, help="directories with T*.jsonl batches")
    parser.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    args = parser.parse_args(argv)
    stats = build(args.sources, args.corpus_dir)
    for name, st in stats.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(st.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
