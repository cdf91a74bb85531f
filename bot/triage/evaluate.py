"""Measuring the triage (scikit-learn's metrics) on the held-out split or any labelled file.

``python -m bot triage-eval`` (or ``python -m bot.triage.cli eval``) prints, for the lines marked
``"split": "test"`` (never trained on): recall and precision per risk level, the share of urgent and
of imminent messages escalated (urgent or imminent), the share of ``none`` messages escalated (false
alarms), category macro-F1, the same for the messages of independent writers alone, and the
conversations of ``bot/content/triage/corpus/conversations``.  With counsellor labels
(``--extra FILE``) it prints the figures before and after adding them to training.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain import Category, Risk, TriageResult
from bot.triage.corpus import INDEPENDENT, Example, load_corpus, read_labelled, test_split
from bot.triage.resources import CORPUS_DIR
from bot.triage.triager import Triager

RISK_LEVELS = [r.value for r in Risk]
CATEGORIES = [c.value for c in Category]


@dataclass
class EvalReport:
    title: str
    gold_risk: list[str] = field(default_factory=list)
    pred_risk: list[str] = field(default_factory=list)
    gold_cat: list[str] = field(default_factory=list)
    pred_cat: list[str] = field(default_factory=list)
    misses: list[tuple[Example, TriageResult]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.gold_risk)

    def escalated(self, level: str | tuple[str, ...]) -> float:
        """Share of messages of a gold level (or levels) that were escalated (urgent or imminent)."""
        levels = (level,) if isinstance(level, str) else level
        picked = [p for g, p in zip(self.gold_risk, self.pred_risk, strict=True) if g in levels]
        if not picked:
            return float("nan")
        return sum(Risk(p).escalates for p in picked) / len(picked)

    def support(self, level: str) -> int:
        return sum(g == level for g in self.gold_risk)

    def per_level(self) -> dict[str, tuple[float, float]]:
        from sklearn.metrics import precision_recall_fscore_support

        if not self.n:
            return {}
        p, r, _, _ = precision_recall_fscore_support(
            self.gold_risk, self.pred_risk, labels=RISK_LEVELS, zero_division=0
        )
        return {lvl: (float(r[i]), float(p[i])) for i, lvl in enumerate(RISK_LEVELS)}

    def category_macro_f1(self) -> float:
        from sklearn.metrics import f1_score

        if not self.n:
            return float("nan")
        present = sorted(set(self.gold_cat))
        return float(f1_score(self.gold_cat, self.pred_cat, labels=present, average="macro", zero_division=0))

    def category_f1(self) -> dict[str, float]:
        from sklearn.metrics import f1_score

        present = sorted(set(self.gold_cat))
        if not present:
            return {}
        scores = f1_score(self.gold_cat, self.pred_cat, labels=present, average=None, zero_division=0)
        return dict(zip(present, (float(s) for s in scores), strict=True))

    def summary(self) -> dict[str, float]:
        return {
            "imminent escalated": self.escalated("imminent"),
            "urgent escalated": self.escalated("urgent"),
            "urgent+imminent escalated": self.escalated(("urgent", "imminent")),
            "none escalated (false alarms)": self.escalated("none"),
            "elevated escalated": self.escalated("elevated"),
            "category macro-F1": self.category_macro_f1(),
        }


def evaluate(triager: Triager, examples: Sequence[Example], title: str = "") -> EvalReport:
    report = EvalReport(title=title)
    for ex in examples:
        res = triager.analyze(ex.text)
        report.gold_risk.append(ex.risk.value)
        report.pred_risk.append(res.risk.value)
        report.gold_cat.append(ex.category.value)
        report.pred_cat.append(res.category.value)
        if (
            (ex.risk.escalates and not res.risk.escalates)
            or (not ex.risk.escalates and res.risk.escalates)
            or res.category != ex.category
        ):
            report.misses.append((ex, res))
    return report


@dataclass
class ConversationReport:
    n: int = 0
    escalation_right: int = 0
    exact: int = 0
    context_only: int = 0
    context_only_right: int = 0
    misses: list[tuple[dict, str]] = field(default_factory=list)


def evaluate_conversations(triager: Triager, conversations: Sequence[dict]) -> ConversationReport:
    """Each conversation is triaged message by message with its history; the level it reaches is
    the highest of its messages.  "Context only": escalating conversations none of whose messages
    escalates when read alone."""
    rep = ConversationReport()
    for conv in conversations:
        msgs = [str(m) for m in conv["conversation"]]
        prior: list = []
        best = Risk.NONE
        for i, m in enumerate(msgs):
            res = triager.analyze(m, tuple(prior), history=tuple(msgs[:i]))
            prior += [s for s in res.signals if s not in prior]
            best = Risk.max(best, res.risk)
        gold = Risk(conv["risk"])
        rep.n += 1
        ok = best.escalates == gold.escalates
        rep.escalation_right += ok
        rep.exact += best == gold
        context_only = conv.get("context_only")  # the writer's word, or from the levels alone
        if context_only is None:
            context_only = all(not Risk(a).escalates for a in conv.get("alone", []))
        if gold.escalates and context_only:
            rep.context_only += 1
            rep.context_only_right += ok
        if not ok:
            rep.misses.append((conv, best.value))
    return rep


def load_conversations(corpus_dir: Path = CORPUS_DIR) -> list[dict]:
    return [
        row
        for path in sorted((corpus_dir / "conversations").glob("*.jsonl"))
        for row in load_conversation_lines(path)
    ]


def load_conversation_lines(path: Path) -> list[dict]:
    """The conversation lines of a JSON-lines file (its single messages are read by load_labelled)."""
    out: list[dict] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row.get("conversation"), list) and row.get("risk") in RISK_LEVELS:
                out.append(row)
    return out


def _pct(x: float) -> str:
    return "   n/a" if x != x else f"{100 * x:5.1f}%"


def format_report(report: EvalReport, show_misses: bool = False) -> str:
    from sklearn.metrics import confusion_matrix

    lines = [f"Triage evaluation on {report.title}: {report.n} messages", ""]
    if not report.n:
        return "\n".join(lines)
    lines.append(f"{'risk level':<10} {'support':>8} {'recall':>8} {'precision':>10} {'escalated':>10}")
    for level, (rec, prec) in report.per_level().items():
        lines.append(
            f"{level:<10} {report.support(level):>8} {_pct(rec):>8} {_pct(prec):>10} "
            f"{_pct(report.escalated(level)):>10}"
        )
    lines.append("")
    for name, value in report.summary().items():
        lines.append(f"{name + ':':<32} {value:.3f}" if "F1" in name else f"{name + ':':<32} {_pct(value)}")
    lines.append("per category F1: " + ", ".join(f"{c} {v:.2f}" for c, v in report.category_f1().items()))
    lines.append("")
    lines.append("Risk confusion (rows: gold, columns: " + " / ".join(RISK_LEVELS) + ")")
    matrix = confusion_matrix(report.gold_risk, report.pred_risk, labels=RISK_LEVELS)
    for g, row in zip(RISK_LEVELS, matrix, strict=True):
        lines.append(f"  {g:<10}" + "".join(f"{v:>8}" for v in row))
    if show_misses and report.misses:
        lines += ["", "Misses (gold -> predicted):"]
        for ex, res in report.misses:
            lines.append(
                f"  [{ex.risk.value}/{ex.category.value} -> {res.risk.value}/{res.category.value}] {ex.text}"
            )
    return "\n".join(lines)


def format_conversations(rep: ConversationReport) -> str:
    return (
        f"Conversations: {rep.n}; escalation right {rep.escalation_right}/{rep.n}, exact level "
        f"{rep.exact}/{rep.n}; risk only in the context: {rep.context_only_right}/{rep.context_only} reached"
    )


def held_out(corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    return test_split(load_corpus(corpus_dir))


def held_out_reports(triager: Triager, corpus_dir: Path = CORPUS_DIR) -> list[EvalReport]:
    """The held-out split, all of it and the independent writers' part alone."""
    examples = held_out(corpus_dir)
    indep = [e for e in examples if e.batch == INDEPENDENT]
    reports = [evaluate(triager, examples, "the held-out split")]
    if indep and len(indep) != len(examples):
        reports.append(evaluate(triager, indep, "the held-out split, independent writers only"))
    return reports


def load_labelled(path: Path) -> list[Example]:
    """Labelled messages from any JSONL file with text, risk, category (and lang) fields."""
    return read_labelled(Path(path), split="test")
