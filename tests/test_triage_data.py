"""Triage behaviour on the labelled test data in ``tests/data/triage_*.jsonl``.

Single messages: ``{"text", "expect", "category"?, "family", ...}`` where ``expect`` is
``imminent`` or ``escalate`` (a counsellor must see it), ``elevated`` (distress without danger) or
``no_alarm`` (an ordinary message, often the harmless twin of a risky one).  ``family`` names the
kind of message; the failures are reported by family.

Conversations: ``{"conversation": [...], "risk", "category"?, "topic"?, "family", "known_failure"?}``:
the messages are triaged in order with their history; ``risk`` is the level the conversation must
reach.  A ``known_failure`` says why today's triage gets it wrong; the case is then expected to fail
(strictly: when it starts to pass, the mark must go).

Files:

* ``triage_families.jsonl``: families of phrasings and their benign twins, written in-house for the
  earlier rule sets (development and regression data, not independent);
* ``triage_audit.jsonl`` / ``triage_challenge_dev.jsonl``: written independently of the rules;
* ``triage_conversations.jsonl``: conversations whose risk shows only in context, short follow-ups
  that keep their topic, and ordinary conversations with misleading words.

One parametrised test reads them all.  Safety rows are strict: every ``imminent`` / ``escalate``
message must escalate.  The other expectations are shares per file (a statistical model is not
right on every single ordinary message); ``BARS`` records them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.domain import Risk

DATA = Path(__file__).resolve().parent / "data"
CRISIS = {"imminent", "escalate"}

# Per file: the most benign ("no_alarm") and distress ("elevated") messages that may escalate, the
# least share of imminent messages that must reach "imminent", and the least category accuracy.
DEFAULT_BARS = {"no_alarm": 0.10, "elevated": 0.30, "imminent_exact": 0.85, "category": 0.85}
BARS = {
    # in-house twins chosen to share the words of crisis messages: the hardest ordinary messages
    "triage_families.jsonl": {**DEFAULT_BARS, "no_alarm": 0.35},
    "triage_challenge_dev.jsonl": {**DEFAULT_BARS, "no_alarm": 0.15},
}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cases() -> list:
    cases = []
    for path in sorted(DATA.glob("triage_*.jsonl")):
        rows = _rows(path)
        assert all(row.get("family") for row in rows), f"{path.name}: every line needs a family"
        single = [r for r in rows if "text" in r]
        if single:
            cases.append(pytest.param(path.name, single, id=path.stem))
        for i, r in enumerate(r for r in rows if "conversation" in r):
            # A known failure stays in the data, marked, and must keep failing until it is fixed.
            marks = (
                [pytest.mark.xfail(strict=True, reason=r["known_failure"])] if "known_failure" in r else []
            )
            cases.append(pytest.param(path.name, [r], id=f"{path.stem}-{i}-{r['family'][:40]}", marks=marks))
    return cases


def _conversation(triager, row: dict) -> None:
    msgs = row["conversation"]
    prior: list = []
    best = Risk.NONE
    result = None
    for i, text in enumerate(msgs):
        result = triager.analyze(text, tuple(prior), history=tuple(msgs[:i]))
        prior += [s for s in result.signals if s not in prior]
        best = Risk.max(best, result.risk)
    gold = Risk(row["risk"])
    shown = [(s.code, s.evidence) for s in result.signals]
    assert best.escalates == gold.escalates, (row["family"], best, shown)
    if gold == Risk.IMMINENT:
        assert best == Risk.IMMINENT, (row["family"], best, shown)
    if "category" in row:
        assert result.category.value == row["category"], (row["family"], result.category)
    if "topic" in row:
        assert result.topics and result.topics[0] == row["topic"], (row["family"], result.topics)


@pytest.mark.parametrize(("name", "rows"), _cases())
def test_triage_data(triager, name: str, rows: list[dict]) -> None:
    if "conversation" in rows[0]:
        _conversation(triager, rows[0])
        return
    bars = BARS.get(name, DEFAULT_BARS)
    count: Counter[str] = Counter()
    missed: list[tuple[str, str, str]] = []
    alarms: Counter[str] = Counter()
    wrong_category: list[tuple[str, str, str]] = []
    for row in rows:
        result = triager.analyze(row["text"])
        expect = row["expect"]
        count[expect] += 1
        if expect in CRISIS and not result.escalate:
            missed.append((row["family"], row["text"], result.risk.value))
        if expect == "imminent" and result.risk == Risk.IMMINENT:
            count["imminent_exact"] += 1
        if expect in ("no_alarm", "elevated") and result.escalate:
            count[expect + "_escalated"] += 1
            alarms[row["family"]] += 1
        if "category" in row:
            count["with_category"] += 1
            if result.category.value != row["category"]:
                wrong_category.append((row["family"], row["text"], result.category.value))
    assert not missed, missed  # every crisis message reaches a counsellor
    assert count["imminent"] + count["escalate"] + count["no_alarm"] > 0
    for kind in ("no_alarm", "elevated"):
        if count[kind]:
            share = count[kind + "_escalated"] / count[kind]
            assert share <= bars[kind], (kind, round(share, 3), alarms.most_common(8))
    if count["imminent"]:
        assert count["imminent_exact"] / count["imminent"] >= bars["imminent_exact"]
    if count["with_category"]:
        accuracy = 1 - len(wrong_category) / count["with_category"]
        assert accuracy >= bars["category"], (round(accuracy, 3), wrong_category[:15])
