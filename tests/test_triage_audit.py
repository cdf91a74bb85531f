"""Generalisation audit: messages written independently of the training corpus and the rules.

``tests/data/triage_audit.jsonl`` was never shown to whoever wrote or tuned the rules; the
``triage_challenge_dev.jsonl`` half was used as a development signal. Both must keep the safety bar.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


def _load(name: str) -> list[dict]:
    return [
        json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.mark.parametrize("name", ["triage_audit.jsonl", "triage_challenge_dev.jsonl"])
def test_independent_messages_keep_the_safety_bar(triager, name: str) -> None:
    rows = _load(name)
    results = [(row, triager.analyze(row["text"])) for row in rows]
    imminent = [(r, res) for r, res in results if r["risk"] == "imminent"]
    urgent = [(r, res) for r, res in results if r["risk"] == "urgent"]
    none = [(r, res) for r, res in results if r["risk"] == "none"]
    missed_imminent = [r["text"] for r, res in imminent if not res.escalate]
    missed_urgent = [r["text"] for r, res in urgent if not res.escalate]
    false_alarms = [r["text"] for r, res in none if res.escalate]
    assert len(imminent) >= 20 and len(urgent) >= 35 and len(none) >= 60
    assert missed_imminent == []  # every imminent message reaches a counsellor
    assert len(missed_urgent) / len(urgent) <= 0.03, missed_urgent
    assert len(false_alarms) / len(none) <= 0.05, false_alarms
    category_ok = sum(res.category.value == r["category"] for r, res in results) / len(results)
    assert category_ok >= 0.85
