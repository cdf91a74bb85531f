"""Training: logistic-regression heads (classes balanced) for the category (6 classes), three ordinal
risk heads P(risk >= elevated), P(risk >= urgent) (the escalation head) and P(risk >= imminent), and
one head per topic. The escalation threshold is chosen on the held-out split (the calibration
messages) so that at least ``escalate_recall`` of its urgent and imminent messages escalate, together
with the rules; with too few of them, on out-of-fold scores of the training split
(:func:`sklearn.model_selection.cross_val_predict`). Then the model is exported to plain arrays
(:mod:`bot.triage.linear`)."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.domain import Risk
from bot.triage.corpus import COUNSELLOR, Example
from bot.triage.features import message_features
from bot.triage.linear import CATEGORIES, LEVELS, MODEL_VERSION, LinearModel
from bot.triage.normalize import normalize
from bot.triage.resources import load_yaml
from bot.triage.risk import RiskRules, load_rules

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """The ``training`` section of bot/content/triage/triage.yaml."""

    c_category: float = 1.0  # a linear SVM
    c_risk: float = 12.0
    c_topics: float = 4.0
    min_df: int = 2
    topic_min_examples: int = 8
    escalate_recall: float = 0.985  # share of urgent+imminent training messages (out of fold) to escalate
    context_recall: float = 0.95  # the same for the (stricter) escalation of a message read in its context
    imminent_recall: float = 0.9  # share of imminent training messages (out of fold) to reach imminent
    elevated_recall: float = 0.9  # share of elevated-or-worse training messages to reach elevated
    folds: int = 4
    min_words: int = 2  # a shorter message is never escalated by the model on its own
    thresholds_with_rules: bool = False  # count the messages the rules escalate when choosing thresholds
    counsellor_weight: float = 4.0  # a counsellor's label counts like this many corpus messages
    max_iter: int = 200

    @classmethod
    def load(cls) -> TrainConfig:
        data = (load_yaml("triage.yaml") or {}).get("training") or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _featurize(examples: Sequence[Example], rules: RiskRules) -> tuple[list[Counter[str]], list[Risk]]:
    feats: list[Counter[str]] = []
    rule_levels: list[Risk] = []
    t0 = time.perf_counter()
    for i, ex in enumerate(examples, start=1):
        norm = normalize(ex.text)
        a = rules.assess(norm.folded)
        feats.append(message_features(norm, rules, a))
        rule_levels.append(a.level)
        if i % 4000 == 0:
            log.info(
                "triage training: features of %d/%d messages (%.1fs)",
                i,
                len(examples),
                time.perf_counter() - t0,
            )
    return feats, rule_levels


def _fit_binary(x, y: np.ndarray, w: np.ndarray, c: float, max_iter: int):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=max_iter)
    clf.fit(x, y, sample_weight=w)
    return clf


_CATEGORY_SCALE = 3.0  # the linear SVM's margins, scaled so that their softmax reads like a probability


def _category_head(
    x, y: np.ndarray, weights: np.ndarray, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """A linear SVM over the categories (one against the rest), exported as softmax logits."""
    from sklearn.svm import LinearSVC

    cat_w = np.zeros((len(CATEGORIES), x.shape[1]), dtype=np.float32)
    cat_b = np.full(len(CATEGORIES), -30.0, dtype=np.float32)  # a category absent from training
    classes = np.unique(y)
    if len(classes) == 1:
        cat_b[classes[0]] = 0.0
        return cat_w, cat_b
    svm = LinearSVC(C=config.c_category, class_weight="balanced")
    svm.fit(x, y, sample_weight=weights)
    coef, intercept = svm.coef_, svm.intercept_
    if len(svm.classes_) == 2:  # one margin: + for the second class, - for the first
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    for row, cls in enumerate(svm.classes_):
        cat_w[cls] = coef[row] * _CATEGORY_SCALE
        cat_b[cls] = intercept[row] * _CATEGORY_SCALE
    return cat_w, cat_b


def _binary_head(x, y: np.ndarray, weights: np.ndarray, config: TrainConfig):
    """Coefficients, bias and out-of-fold probabilities of one binary risk head.

    With too few examples of a class for cross-validation (a tiny corpus), the out-of-fold scores
    are the in-sample ones; with a single class the head is constant.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        value = 10.0 if n_pos else -10.0
        return np.zeros(x.shape[1], dtype=np.float32), value, np.full(len(y), 1.0 / (1.0 + np.exp(-value)))
    clf = _fit_binary(x, y, weights, config.c_risk, config.max_iter)
    folds = min(config.folds, n_pos, len(y) - n_pos)
    if folds < 2:
        oof = clf.predict_proba(x)[:, 1]
    else:
        oof = cross_val_predict(
            LogisticRegression(
                C=config.c_risk, solver="liblinear", class_weight="balanced", max_iter=config.max_iter
            ),
            x,
            y,
            cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=7),
            method="predict_proba",
            params={"sample_weight": weights},
        )[:, 1]
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), oof


def _threshold_for_recall(
    scores: np.ndarray, positive: np.ndarray, recall: float, covered: np.ndarray
) -> float:
    """The highest threshold at which ``recall`` of the positives are flagged (by it or ``covered``)."""
    need = math.ceil(recall * positive.sum())
    already = int((positive & covered).sum())
    rest = np.sort(scores[positive & ~covered])[::-1]
    k = need - already
    if k <= 0 or len(rest) == 0:
        return 0.5
    k = min(k, len(rest))
    return float(min(0.5, rest[k - 1]))


def train_model(
    examples: Sequence[Example],
    rules: RiskRules | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] | None = None,
    calibration: Sequence[Example] = (),
) -> LinearModel:
    """Train on the given examples (the caller makes sure no held-out line is among them).

    ``calibration``: labelled messages never trained on (the held-out split) on which the risk
    thresholds are chosen; without enough of them, out-of-fold scores of the training split are used.
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer

    say = progress or log.info
    rules = rules or load_rules()
    config = config or TrainConfig.load()
    t0 = time.perf_counter()
    say(f"triage training: {len(examples)} messages")
    feats, rule_levels = _featurize(examples, rules)
    df: Counter[str] = Counter()
    for f in feats:
        df.update(f.keys())
    keep = {k for k, v in df.items() if v >= config.min_df or k[:2] in ("c:", "r:", "t:", "s:", "a:")}
    feats = [{k: v for k, v in f.items() if k in keep} for f in feats]
    dv = DictVectorizer(dtype=np.float32)
    counts = dv.fit_transform(feats)
    counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as in LinearModel.vector
    tfidf = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True)
    x = tfidf.fit_transform(counts).tocsr()
    say(f"triage training: {x.shape[1]} features ({time.perf_counter() - t0:.1f}s)")

    weights = np.array([config.counsellor_weight if e.batch == COUNSELLOR else 1.0 for e in examples])
    rank = np.array([e.risk.rank for e in examples])
    y_cat = np.array([CATEGORIES.index(e.category.value) for e in examples])

    cat_w, cat_b = _category_head(x, y_cat, weights, config)
    say(f"triage training: category head ({time.perf_counter() - t0:.1f}s)")

    # Ordinal risk heads, and their out-of-fold scores on the training split for the thresholds.
    level_w, level_b, oof = [], [], {}
    for name in LEVELS:
        y = (rank >= Risk(name).rank).astype(np.int64)
        coef, bias, oof[name] = _binary_head(x, y, weights, config)
        level_w.append(coef)
        level_b.append(bias)
    say(f"triage training: risk heads and out-of-fold scores ({time.perf_counter() - t0:.1f}s)")
    # The rules are written while looking at training messages, so they cover the training split
    # better than new messages: by default the thresholds are chosen for the model alone.
    rule_rank = (
        np.array([r.rank for r in rule_levels]) if config.thresholds_with_rules else np.zeros(len(rank))
    )
    escalate = oof["urgent"] ** 0.75 * oof["elevated"] ** 0.25  # as Prediction.escalate
    thresholds = {
        "elevated": _threshold_for_recall(oof["elevated"], rank >= 1, config.elevated_recall, rule_rank >= 1),
        "urgent": _threshold_for_recall(escalate, rank >= 2, config.escalate_recall, rule_rank >= 2),
        "context": _threshold_for_recall(escalate, rank >= 2, config.context_recall, rule_rank >= 2),
        "imminent": _threshold_for_recall(oof["imminent"], rank >= 3, config.imminent_recall, rule_rank >= 3),
    }
    flagged = (escalate >= thresholds["urgent"]) | (rule_rank >= 2)
    none = rank == 0
    for target in (0.95, 0.97, 0.98, 0.99):
        t = _threshold_for_recall(escalate, rank >= 2, target, rule_rank >= 2)
        f = (escalate >= t) | (rule_rank >= 2)
        say(
            f"triage training: (at {target:.1%} recall the threshold would be {t:.3f}, flagging "
            f"{f[none].mean():.1%} of 'none' and {f[rank == 1].mean():.1%} of 'elevated')"
        )
    say(
        f"triage training: escalation threshold {thresholds['urgent']:.3f} for {config.escalate_recall:.1%} "
        f"out-of-fold recall; it flags {flagged[none].mean():.1%} of the 'none' and "
        f"{flagged[rank == 1].mean():.1%} of the 'elevated' training messages"
    )

    topic_counts: Counter[str] = Counter(t for e in examples for t in e.topics)
    topics = tuple(sorted(t for t, n in topic_counts.items() if n >= config.topic_min_examples))
    top_w = np.zeros((len(topics), x.shape[1]), dtype=np.float32)
    top_b = np.zeros(len(topics), dtype=np.float32)
    for i, t in enumerate(topics):
        y = np.array([1 if t in e.topics else 0 for e in examples])
        clf = _fit_binary(x, y, weights, config.c_topics, config.max_iter)
        top_w[i] = clf.coef_[0]
        top_b[i] = clf.intercept_[0]
    say(f"triage training: {len(topics)} topic heads ({time.perf_counter() - t0:.1f}s)")

    w_all = np.vstack([cat_w, np.vstack(level_w), top_w]).T.astype(np.float32)
    used = np.flatnonzero(np.abs(w_all).max(axis=1) > 1e-6)
    names = dv.get_feature_names_out()
    model = LinearModel(
        vocab={str(names[j]): i for i, j in enumerate(used)},
        idf=tfidf.idf_[used].astype(np.float32),
        weights=np.ascontiguousarray(w_all[used]),
        bias=np.concatenate([cat_b, np.array(level_b, dtype=np.float32), top_b]).astype(np.float32),
        categories=CATEGORIES,
        topics=topics,
        thresholds=thresholds,
        meta={
            "examples": len(examples),
            "counsellor_examples": int(sum(e.batch == COUNSELLOR for e in examples)),
            "train_seconds": round(time.perf_counter() - t0, 1),
            "version": MODEL_VERSION,
            "thresholds_from": "out-of-fold training scores",
            "min_words": config.min_words,
        },
    )
    if sum(e.risk.escalates for e in calibration) >= _MIN_CALIBRATION:
        _calibrate(model, calibration, rules, config, say)
    say(f"triage training: done in {time.perf_counter() - t0:.1f}s")
    return model


_MIN_CALIBRATION = 30  # escalating held-out messages needed to choose the thresholds on them


def _calibrate(
    model: LinearModel,
    examples: Sequence[Example],
    rules: RiskRules,
    config: TrainConfig,
    say: Callable[[str], None],
) -> None:
    """Choose the thresholds on messages never trained on, with the rules counted.

    Out-of-fold scores of the training split are optimistic once the lexicon has been written while
    reading those messages (the concept features know them), so the thresholds that matter for
    safety are set where the model meets messages it has not seen.
    """
    scores, levels, rule_rank, lengths = [], [], [], []
    for ex in examples:
        norm = normalize(ex.text)
        a = rules.assess(norm.folded)
        p = model.predict_features(message_features(norm, rules, a))
        scores.append((p.escalate, p.at_least["imminent"], p.at_least["elevated"]))
        levels.append(ex.risk.rank)
        rule_rank.append(a.level.rank)
        lengths.append(sum(1 for tok in norm.tokens if any(ch.isalpha() for ch in tok)))
    esc, imm, ele = (np.array(col) for col in zip(*scores, strict=True))
    rank, covered, words = np.array(levels), np.array(rule_rank), np.array(lengths)
    esc = np.where(words < config.min_words, -1.0, esc)  # never escalated by the model alone
    t = model.thresholds
    t["urgent"] = _threshold_for_recall(esc, rank >= 2, config.escalate_recall, covered >= 2)
    context = _threshold_for_recall(esc, rank >= 2, config.context_recall, covered >= 2)
    t["context"] = max(t["urgent"], context)  # the conversation window escalates at a stricter one
    t["imminent"] = _threshold_for_recall(imm, rank >= 3, config.imminent_recall, covered >= 3)
    t["elevated"] = _threshold_for_recall(ele, rank >= 1, config.elevated_recall, covered >= 1)
    flagged = (covered >= 2) | (esc >= t["urgent"])
    model.meta["thresholds_from"] = f"held-out ({len(examples)} messages)"
    say(
        f"triage training: thresholds chosen on {len(examples)} held-out messages: escalation "
        f"{t['urgent']:.3f} ({flagged[rank >= 2].mean():.1%} of urgent+imminent, "
        f"{flagged[rank == 0].mean():.1%} of 'none' escalated), context {t['context']:.3f}, "
        f"imminent {t['imminent']:.3f}, elevated {t['elevated']:.3f}"
    )
