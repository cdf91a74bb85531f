"""The trained classifier: category, risk level and topics from character n-grams.

Training uses scikit-learn (TF-IDF over character n-grams of the folded text, which copes with
Azerbaijani suffixes and missing special letters, plus word n-grams and the codes of the risk rules
that fired) and logistic regression heads.

Besides the category, risk and topic heads there is a binary "escalate" head (urgent or imminent
versus the rest) meant as a second opinion for phrasings the rules do not know.  It is trained on
every message twice, once with and once without the rule codes among its features ("rule
dropout"), so that the words and character n-grams alone carry the signal when no rule fires.  Its
threshold is chosen on out-of-fold scores of the training split only: the score that a given share
of the training "none" messages would reach (``escalate_none_rate`` in triage.yaml), so the
threshold follows the corpus when it changes.  After training, the vocabulary, IDF weights and
coefficients are exported to plain numpy arrays, so scoring one message is a dictionary lookup and
a small matrix product (well under a millisecond) and loading the cached model does not import
scikit-learn at all.

The model is trained on first use from ``bot/content/triage/corpus/*.jsonl`` (never the lines marked
``"split": "test"``) and cached as a pickle under the cache directory, keyed by a hash of the corpus
files, the triage lexicon files, the feature code and :data:`MODEL_VERSION`; a change to any of
them retrains.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.domain import Category, Risk
from bot.triage.corpus import Example, corpus_digest, corpus_files, load_corpus, train_split
from bot.triage.normalize import normalize
from bot.triage.resources import CORPUS_DIR, TRIAGE_CONTENT_DIR, load_yaml
from bot.triage.risk import RiskRules, load_rules
from bot.triage.topics import load_topic_keywords

log = logging.getLogger(__name__)

# Bump when features, training or the exported format change.
MODEL_VERSION = "triage-model-5"

CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
RISKS: tuple[str, ...] = tuple(r.value for r in Risk)

_NGRAM_MIN, _NGRAM_MAX = 2, 5
_MAX_WORD_FOR_NGRAMS = 24
_SYMBOLIC_PREFIXES = ("r:", "rr:", "t:")
_RULE_FEATURE_REPEAT = 6  # rule codes and topic keywords weigh like six occurrences
_RULE_PREFIXES = ("r:", "rr:")
_ESCALATE_FOLDS = 4
_ESCALATE_MIN_EXAMPLES = 20  # fewer escalating (or ordinary) training messages: no escalate head


def extract_features(
    folded: str, rule_codes: Iterable[str] = (), topic_hits: Iterable[str] = ()
) -> Counter[str]:
    """Raw feature counts of a folded message: char n-grams per word, words, word pairs, the codes of
    the risk rules that fired and the topic keywords found."""
    feats: Counter[str] = Counter()
    words = folded.split()
    for w in words:
        feats["w:" + w] += 1
        padded = f" {w[:_MAX_WORD_FOR_NGRAMS]} "
        n = len(padded)
        for k in range(_NGRAM_MIN, _NGRAM_MAX + 1):
            for i in range(n - k + 1):
                feats[padded[i : i + k]] += 1
    for a, b in itertools.pairwise(words):
        feats["b:" + a + "_" + b] += 1
    codes = sorted(rule_codes)
    for i, code in enumerate(codes):
        feats["r:" + code] += _RULE_FEATURE_REPEAT
        for other in codes[i + 1 :]:
            feats["rr:" + code + "|" + other] += _RULE_FEATURE_REPEAT // 2
    for topic in topic_hits:
        feats["t:" + topic] += _RULE_FEATURE_REPEAT
    return feats


def message_features(folded: str, rules: RiskRules, rule_codes: Iterable[str] | None = None) -> Counter[str]:
    if rule_codes is None:
        rule_codes = rules.assess(folded).codes
    return extract_features(folded, sorted(rule_codes), load_topic_keywords().hits(folded))


@dataclass
class Prediction:
    category: dict[str, float]
    risk: dict[str, float]
    topics: dict[str, float]
    escalate: float | None = None  # P(urgent or imminent) of the binary head, when the model has one

    @property
    def top_category(self) -> tuple[str, float]:
        best = max(self.category, key=self.category.__getitem__)
        return best, self.category[best]


def _linear_scores(
    feats: Counter[str], vocab: dict[str, int], idf: np.ndarray, weights: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """TF-IDF (1 + log tf, l2 norm) of the known features times the weights, plus the bias."""
    idx: list[int] = []
    vals: list[float] = []
    for f, c in feats.items():
        j = vocab.get(f)
        if j is not None:
            idx.append(j)
            vals.append(1.0 + math.log(c))
    if not idx:
        return bias.copy()
    ids = np.fromiter(idx, dtype=np.int64, count=len(idx))
    x = np.fromiter(vals, dtype=np.float32, count=len(vals)) * idf[ids]
    norm = float(np.sqrt(np.dot(x, x)))
    if norm > 0:
        x /= norm
    return x @ weights[ids] + bias


@dataclass
class LinearModel:
    """Exported model: TF-IDF (sublinear tf, l2 norm) + linear heads.

    The main heads (category, risk, topics) read every feature.  A small second category head reads
    only the language-independent features (rule codes and topic keywords); its vote is mixed into
    the category with weight ``sym_weight`` (a product of experts), which helps where one language
    has few training messages.
    """

    vocab: dict[str, int]
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_outputs): category | risk | topics
    bias: np.ndarray  # (n_outputs,)
    categories: tuple[str, ...]
    risks: tuple[str, ...]
    topics: tuple[str, ...]
    meta: dict = field(default_factory=dict)
    sym_vocab: dict[str, int] = field(default_factory=dict)
    sym_idf: np.ndarray | None = None
    sym_weights: np.ndarray | None = None  # (n_sym_features, n_categories)
    sym_bias: np.ndarray | None = None
    sym_weight: float = 0.0
    # The binary escalate head is the last column of ``weights`` when ``escalate_threshold`` is set.
    escalate_threshold: float | None = None  # for ordinary messages
    escalate_threshold_strict: float | None = None  # for messages read as a game, film, joke ...

    def scores(self, feats: Counter[str]) -> np.ndarray:
        return _linear_scores(feats, self.vocab, self.idf, self.weights, self.bias)

    def predict_features(self, feats: Counter[str]) -> Prediction:
        s = self.scores(feats)
        nc, nr = len(self.categories), len(self.risks)
        cat_logits = _log_softmax(s[:nc])
        if self.sym_weight and self.sym_weights is not None and self.sym_idf is not None:
            sym = _linear_scores(feats, self.sym_vocab, self.sym_idf, self.sym_weights, self.sym_bias)
            cat_logits = (1.0 - self.sym_weight) * cat_logits + self.sym_weight * _log_softmax(sym)
        cat = _softmax(cat_logits)
        risk = _softmax(s[nc : nc + nr])
        nt = len(self.topics)
        top = 1.0 / (1.0 + np.exp(-s[nc + nr : nc + nr + nt]))
        escalate = None
        if self.escalate_threshold is not None:
            escalate = float(1.0 / (1.0 + np.exp(-s[nc + nr + nt])))
        return Prediction(
            category=dict(zip(self.categories, cat.tolist(), strict=True)),
            risk=dict(zip(self.risks, risk.tolist(), strict=True)),
            topics=dict(zip(self.topics, top.tolist(), strict=True)),
            escalate=escalate,
        )


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


# --- training ------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    c_category: float = 8.0
    c_risk: float = 8.0
    c_topics: float = 6.0
    c_symbolic: float = 2.0
    symbolic_weight: float = 0.2
    min_df: int = 2
    topic_min_examples: int = 4
    c_escalate: float = 4.0
    escalate_none_rate: float = 0.02  # share of training "none" messages the escalate head may flag
    escalate_strict_rate: float = 0.005  # the same for messages in a game / film / joke context

    @classmethod
    def load(cls) -> TrainConfig:
        """Defaults, overridden by the ``training`` section of bot/content/triage/triage.yaml."""
        data = (load_yaml("triage.yaml") or {}).get("training") or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def train_model(
    examples: Sequence[Example], rules: RiskRules | None = None, config: TrainConfig | None = None
) -> LinearModel:
    """Train on the given examples (the caller makes sure no test line is among them)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    rules = rules or load_rules()
    config = config or TrainConfig.load()
    t0 = time.perf_counter()
    feats = []
    for ex in examples:
        folded = normalize(ex.text).folded
        feats.append(message_features(folded, rules))
    # Drop features seen in fewer than min_df messages.
    df: Counter[str] = Counter()
    for f in feats:
        df.update(f.keys())
    keep = {k for k, v in df.items() if v >= config.min_df or k.startswith(("r:", "t:"))}
    feats = [{k: v for k, v in f.items() if k in keep} for f in feats]
    dv = DictVectorizer(dtype=np.float32)
    counts = dv.fit_transform(feats)
    # sublinear tf like the exported scorer: 1 + log(count)
    counts.data = 1.0 + np.log(counts.data)
    tfidf = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=False)
    x = tfidf.fit_transform(counts)

    y_cat = np.array([CATEGORIES.index(e.category.value) for e in examples])
    y_risk = np.array([RISKS.index(e.risk.value) for e in examples])

    def fit_multiclass(y: np.ndarray, n_classes: int, c: float) -> tuple[np.ndarray, np.ndarray]:
        clf = LogisticRegression(C=c, max_iter=300, class_weight="balanced")
        clf.fit(x, y)
        coef = np.zeros((n_classes, x.shape[1]), dtype=np.float32)
        bias = np.full(n_classes, -30.0, dtype=np.float32)  # classes absent from training
        if len(clf.classes_) == 2:
            # binary case: softmax([0, z]) == sigmoid(z)
            coef[clf.classes_[0]] = 0.0
            bias[clf.classes_[0]] = 0.0
            coef[clf.classes_[1]] = clf.coef_[0]
            bias[clf.classes_[1]] = clf.intercept_[0]
        else:
            for row, cls in enumerate(clf.classes_):
                coef[cls] = clf.coef_[row]
                bias[cls] = clf.intercept_[row]
        return coef, bias

    cat_w, cat_b = fit_multiclass(y_cat, len(CATEGORIES), config.c_category)
    risk_w, risk_b = fit_multiclass(y_risk, len(RISKS), config.c_risk)

    topic_counts: Counter[str] = Counter(t for e in examples for t in e.topics)
    topics = tuple(sorted(t for t, n in topic_counts.items() if n >= config.topic_min_examples))
    top_w = np.zeros((len(topics), x.shape[1]), dtype=np.float32)
    top_b = np.zeros(len(topics), dtype=np.float32)
    for i, t in enumerate(topics):
        y = np.array([1 if t in e.topics else 0 for e in examples])
        clf = LogisticRegression(C=config.c_topics, max_iter=200, solver="liblinear", class_weight="balanced")
        clf.fit(x, y)
        top_w[i] = clf.coef_[0]
        top_b[i] = clf.intercept_[0]

    # Category head on the language-independent features only (rule codes, topic keywords).
    sym_names = [str(n) for n in dv.get_feature_names_out() if str(n).startswith(_SYMBOLIC_PREFIXES)]
    sym_cols = [dv.vocabulary_[n] for n in sym_names]
    sym_x = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True).fit(counts[:, sym_cols])
    xs = sym_x.transform(counts[:, sym_cols])
    sym_clf = LogisticRegression(C=config.c_symbolic, max_iter=300, class_weight="balanced")
    sym_clf.fit(xs, y_cat)
    sym_w = np.zeros((len(CATEGORIES), len(sym_cols)), dtype=np.float32)
    sym_b = np.full(len(CATEGORIES), -30.0, dtype=np.float32)
    for row, cls in enumerate(sym_clf.classes_):
        sym_w[cls] = sym_clf.coef_[row]
        sym_b[cls] = sym_clf.intercept_[row]

    heads = [cat_w, risk_w, top_w]
    biases = [cat_b, risk_b, top_b]
    escalate = _train_escalate_head(examples, counts, dv, tfidf, config)
    if escalate is not None:
        esc_w, esc_b, esc_thr, esc_strict = escalate
        heads.append(esc_w[None, :])
        biases.append(np.array([esc_b], dtype=np.float32))
    weights = np.vstack(heads).T.astype(np.float32)
    # Keep only features with some weight (smaller pickle, same scores).
    used = np.flatnonzero(np.abs(weights).max(axis=1) > 1e-6)
    names = dv.get_feature_names_out()
    vocab = {str(names[j]): i for i, j in enumerate(used)}
    model = LinearModel(
        vocab=vocab,
        idf=tfidf.idf_[used].astype(np.float32),
        weights=np.ascontiguousarray(weights[used]),
        bias=np.concatenate(biases).astype(np.float32),
        categories=CATEGORIES,
        risks=RISKS,
        topics=topics,
        meta={"examples": len(examples), "train_seconds": round(time.perf_counter() - t0, 2)},
        sym_vocab={name: i for i, name in enumerate(sym_names)},
        sym_idf=sym_x.idf_.astype(np.float32),
        sym_weights=np.ascontiguousarray(sym_w.T),
        sym_bias=sym_b,
        sym_weight=config.symbolic_weight,
        escalate_threshold=esc_thr if escalate is not None else None,
        escalate_threshold_strict=esc_strict if escalate is not None else None,
    )
    log.info("triage model trained on %d examples in %.1fs", len(examples), time.perf_counter() - t0)
    return model


def _train_escalate_head(examples, counts, dv, tfidf, config: TrainConfig):
    """The binary escalate head: weights, bias and its two thresholds, or None if data are too few.

    Every training message is seen twice, with and without the rule codes ("rule dropout"); the
    thresholds are quantiles of out-of-fold scores (with rule codes, as at prediction time) of the
    training messages labelled "none".
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    y = np.array([e.risk.escalates for e in examples], dtype=np.int64)
    none = np.array([e.risk == Risk.NONE for e in examples])
    if y.sum() < _ESCALATE_MIN_EXAMPLES or none.sum() < _ESCALATE_MIN_EXAMPLES:
        return None
    names = dv.get_feature_names_out()
    rule_cols = np.array([str(n).startswith(_RULE_PREFIXES) for n in names])
    counts_drop = counts.tocsc(copy=True)
    keep = sparse.diags((~rule_cols).astype(np.float32))
    counts_drop = (counts_drop @ keep).tocsr()
    counts_drop.eliminate_zeros()
    x_full = tfidf.transform(counts)
    x_drop = tfidf.transform(counts_drop)

    def fit(rows: np.ndarray) -> LogisticRegression:
        clf = LogisticRegression(C=config.c_escalate, max_iter=500, class_weight="balanced")
        clf.fit(sparse.vstack([x_full[rows], x_drop[rows]]), np.concatenate([y[rows], y[rows]]))
        return clf

    order = np.random.default_rng(7).permutation(len(examples))
    oof = np.zeros(len(examples), dtype=np.float64)
    for k in range(_ESCALATE_FOLDS):
        held = order[k::_ESCALATE_FOLDS]
        rest = np.setdiff1d(order, held)
        oof[held] = fit(rest).predict_proba(x_full[held])[:, 1]
    threshold = float(np.quantile(oof[none], 1.0 - config.escalate_none_rate))
    strict = float(np.quantile(oof[none], 1.0 - config.escalate_strict_rate))
    clf = fit(order)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), threshold, max(strict, threshold)


# --- cache ---------------------------------------------------------------------------------------


def _lexicon_files() -> list[Path]:
    return sorted(TRIAGE_CONTENT_DIR.glob("*.yaml"))


_CODE_FILES = ("normalize.py", "risk.py", "topics.py", "model.py", "corpus.py")


def model_key(corpus_dir: Path = CORPUS_DIR) -> str:
    """Hash of everything the trained weights depend on: corpus, lexicon files and the code."""
    h = hashlib.sha256()
    h.update(MODEL_VERSION.encode())
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        h.update((here / name).read_bytes())
    h.update(corpus_digest(corpus_files(corpus_dir)).encode())
    for p in _lexicon_files():
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    return Path(os.environ.get("TRIAGE_CACHE_DIR", "data/cache"))


def load_or_train(cache_dir: Path | None = None, corpus_dir: Path = CORPUS_DIR) -> LinearModel:
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = model_key(corpus_dir)
    path = cache_dir / f"triage-model-{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, LinearModel):
                return model
        except Exception:  # a corrupt or foreign file: retrain and overwrite
            log.warning("triage model cache %s unreadable; retraining", path.name)
    examples = train_split(load_corpus(corpus_dir))
    if not examples:
        raise RuntimeError(f"no training examples in {corpus_dir}")
    model = train_model(examples)
    model.meta["key"] = key
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".triage-model-", suffix=".tmp", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    # Remove stale models of earlier corpus versions.
    for old in cache_dir.glob("triage-model-*.pkl"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
    return model
