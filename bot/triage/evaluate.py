"""Measuring the triage on the held-out split, and tuning the model thresholds on the training split.

``python -m bot triage-eval`` (or ``python -m bot.triage.cli eval``) prints, for the lines marked
``"split": "test"``: recall and precision per risk level, the share of ``none`` messages that would
be escalated, category macro-F1 and the confusion matrices.  The model used there is trained on the
train split only.

``python -m bot.triage.cli eval --data FILE [--misses]`` prints the same report for any labelled
JSON-lines file (text, risk, category, lang), such as an independently written challenge set.

``python -m bot.triage.cli tune`` runs k-fold cross-validation on the *training* split only and
reports how the model thresholds in ``bot/content/triage/triage.yaml`` trade urgent recall against
false escalations, so thresholds are never fitted to the test split.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.domain import Category, Risk, TriageResult
from bot.triage.corpus import Example, load_corpus, test_split, train_split
from bot.triage.model import train_model
from bot.triage.risk import load_rules
from bot.triage.triager import Triager, TriageSettings

RISK_LEVELS = [r.value for r in Risk]
CATEGORIES = [c.value for c in Category]


@dataclass
class EvalReport:
    n: int
    risk_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    cat_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[tuple[Example, TriageResult]] = field(default_factory=list)
    by_language: dict[str, Counter[str]] = field(default_factory=dict)

    def recall(self, level: str) -> float:
        total = sum(v for (g, _), v in self.risk_confusion.items() if g == level)
        return self.risk_confusion[(level, level)] / total if total else float("nan")

    def precision(self, level: str) -> float:
        total = sum(v for (_, p), v in self.risk_confusion.items() if p == level)
        return self.risk_confusion[(level, level)] / total if total else float("nan")

    def support(self, level: str) -> int:
        return sum(v for (g, _), v in self.risk_confusion.items() if g == level)

    def escalation_recall(self) -> float:
        """Share of urgent+imminent messages that were escalated at all."""
        esc = {"urgent", "imminent"}
        total = sum(v for (g, _), v in self.risk_confusion.items() if g in esc)
        hit = sum(v for (g, p), v in self.risk_confusion.items() if g in esc and p in esc)
        return hit / total if total else float("nan")

    def none_escalated(self) -> float:
        total = self.support("none")
        esc = sum(
            v for (g, p), v in self.risk_confusion.items() if g == "none" and p in ("urgent", "imminent")
        )
        return esc / total if total else float("nan")

    def category_f1(self) -> dict[str, float]:
        out = {}
        for c in CATEGORIES:
            tp = self.cat_confusion[(c, c)]
            fp = sum(v for (g, p), v in self.cat_confusion.items() if p == c and g != c)
            fn = sum(v for (g, p), v in self.cat_confusion.items() if g == c and p != c)
            if tp + fp + fn == 0:
                continue
            out[c] = 2 * tp / (2 * tp + fp + fn)
        return out

    def category_macro_f1(self) -> float:
        f1 = self.category_f1()
        return sum(f1.values()) / len(f1) if f1 else float("nan")


def evaluate(triager: Triager, examples: Sequence[Example]) -> EvalReport:
    report = EvalReport(n=len(examples))
    for ex in examples:
        res = triager.analyze(ex.text)
        report.risk_confusion[(ex.risk.value, res.risk.value)] += 1
        report.cat_confusion[(ex.category.value, res.category.value)] += 1
        lang = report.by_language.setdefault(ex.lang, Counter())
        lang["n"] += 1
        if ex.risk.escalates:
            lang["escalating"] += 1
            lang["escalated_ok"] += int(res.risk.escalates)
        if ex.risk == Risk.NONE:
            lang["none"] += 1
            lang["none_escalated"] += int(res.risk.escalates)
        lang["category_ok"] += int(res.category == ex.category)
        if (
            (ex.risk.escalates and res.risk.rank < ex.risk.rank)
            or (not ex.risk.escalates and res.risk.escalates)
            or res.category != ex.category
        ):
            report.misses.append((ex, res))
    return report


def _matrix(conf: Counter[tuple[str, str]], labels: list[str], title: str) -> list[str]:
    width = max(len(x) for x in labels) + 2
    lines = [title, " " * width + "".join(f"{lab[:10]:>11}" for lab in labels) + "   <- predicted"]
    for g in labels:
        lines.append(f"{g:<{width}}" + "".join(f"{conf[(g, p)]:>11}" for p in labels))
    return lines


def format_report(report: EvalReport, show_misses: bool = False, title: str = "the held-out split") -> str:
    pct = lambda x: "  n/a" if x != x else f"{100 * x:5.1f}%"  # noqa: E731 - NaN check
    lines = [f"Triage evaluation on {title}: {report.n} messages", ""]
    lines.append(f"{'risk level':<10} {'support':>8} {'recall':>8} {'precision':>10}")
    for level in RISK_LEVELS:
        lines.append(
            f"{level:<10} {report.support(level):>8} {pct(report.recall(level)):>8} "
            f"{pct(report.precision(level)):>10}"
        )
    lines += [
        "",
        f"urgent+imminent escalated (any level >= urgent): {pct(report.escalation_recall())}",
        f"none messages escalated (false alarms):          {pct(report.none_escalated())}",
        f"category macro-F1:                               {report.category_macro_f1():.3f}",
        "  per category F1: " + ", ".join(f"{c} {v:.2f}" for c, v in report.category_f1().items()),
        "",
    ]
    lines += _matrix(report.risk_confusion, RISK_LEVELS, "Risk confusion matrix (rows: gold)")
    lines.append("")
    lines += _matrix(report.cat_confusion, CATEGORIES, "Category confusion matrix (rows: gold)")
    lines.append("")
    lines.append("By language: escalation recall / none escalated / category accuracy")
    for lang, c in sorted(report.by_language.items()):
        rec = c["escalated_ok"] / c["escalating"] if c["escalating"] else float("nan")
        fa = c["none_escalated"] / c["none"] if c["none"] else float("nan")
        acc = c["category_ok"] / c["n"] if c["n"] else float("nan")
        lines.append(f"  {lang}: n={c['n']:<4} {pct(rec)} / {pct(fa)} / {pct(acc)}")
    if show_misses and report.misses:
        lines += ["", "Misses (gold -> predicted):"]
        for ex, res in report.misses:
            lines.append(
                f"  [{ex.risk.value}/{ex.category.value} -> {res.risk.value}/{res.category.value}] {ex.text}"
            )
    return "\n".join(lines)


def held_out_report(triager: Triager) -> EvalReport:
    return evaluate(triager, test_split(load_corpus()))


def load_labelled(path: Path) -> list[Example]:
    """Labelled messages from any JSON-lines file with text, risk, category (and lang) fields, such as
    an independently written challenge set.  Malformed lines are skipped."""
    out: list[Example] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Example(
                    text=str(row["text"]),
                    category=Category(row["category"]),
                    risk=Risk(row["risk"]),
                    topics=tuple(row.get("topics") or ()),
                    lang=str(row.get("lang", "az")),
                    who=str(row.get("who", "")),
                    split="test",
                    source=Path(path).name,
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return out


# --- threshold tuning by cross-validation on the training split -----------------------------------


def cross_validate(k: int = 5, seed: int = 13, settings: Sequence[TriageSettings] = ()) -> str:
    """k-fold CV on the training split; report metrics for each candidate settings."""
    examples = train_split(load_corpus())
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    folds = [order[i::k] for i in range(k)]
    rules = load_rules()
    base = TriageSettings.load()
    candidates = list(settings) or _default_grid(base)
    reports = [EvalReport(n=0) for _ in candidates]
    t0 = time.perf_counter()
    for f, fold in enumerate(folds):
        held = set(fold)
        train = [examples[i] for i in order if i not in held]
        model = train_model(train, rules)
        held_examples = [examples[i] for i in fold]
        for cand, rep in zip(candidates, reports, strict=True):
            part = evaluate(Triager(model, rules, cand), held_examples)
            rep.n += part.n
            rep.risk_confusion.update(part.risk_confusion)
            rep.cat_confusion.update(part.cat_confusion)
        print(f"fold {f + 1}/{k} done ({time.perf_counter() - t0:.0f}s)", flush=True)
    lines = [
        f"{k}-fold cross-validation on the training split ({len(examples)} messages)",
        "elev  urg  urg_ctx  imm  head gate | rec_imm rec_urg esc_rec none_esc | prec_urg prec_imm | macroF1",
    ]
    for cand, rep in zip(candidates, reports, strict=True):
        lines.append(
            f"{cand.elevated:.2f} {cand.urgent:.2f} {cand.urgent_in_context:.2f} {cand.imminent:.2f} "
            f"{'on ' if cand.escalate_head else 'off'}  {cand.escalate_head_min_distress:.2f} | "
            f"{rep.recall('imminent'):.3f}  {rep.recall('urgent'):.3f}  {rep.escalation_recall():.3f}  "
            f"{rep.none_escalated():.3f}  | {rep.precision('urgent'):.3f}  {rep.precision('imminent'):.3f} | "
            f"{rep.category_macro_f1():.3f}"
        )
    return "\n".join(lines)


def _default_grid(base: TriageSettings) -> list[TriageSettings]:
    grid = []
    for urgent in (0.4, 0.5, 0.55, 0.6, 0.7):
        for imminent in (0.5, 0.65, 0.8):
            grid.append(replace(base, urgent=urgent, imminent=imminent))
    # The binary escalate head: off, on without and with the distress gate.
    grid.append(replace(base, escalate_head=False))
    for gate in (0.0, 0.5, 0.6):
        grid.append(replace(base, escalate_head=True, escalate_head_min_distress=gate))
    return grid
