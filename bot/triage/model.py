"""The trained classifier: risk level, category and topics, cached.

:mod:`bot.triage.features` makes a message's features, :mod:`bot.triage.training` trains the heads,
:mod:`bot.triage.linear` is the exported model. This module keeps the cache: the file is keyed on
the data (corpus files, counsellor labels, the triage lexicon and settings in
bot/content/triage/*.yaml) and on :data:`MODEL_VERSION`, which is bumped whenever the features or the
training change; not on source files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from dataclasses import asdict
from pathlib import Path

from bot.triage.corpus import Example, corpus_files, file_digest, load_corpus, load_extra
from bot.triage.corpus import test_split as _test_split
from bot.triage.corpus import train_split as _train_split
from bot.triage.features import extract_features, message_features, symbolic_features
from bot.triage.linear import (
    CATEGORIES,
    LEVELS,
    MODEL_VERSION,
    RISKS,
    LinearModel,
    Prediction,
    Vector,
    combine,
)
from bot.triage.resources import CORPUS_DIR, TRIAGE_CONTENT_DIR
from bot.triage.training import TrainConfig, train_model

log = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "LEVELS",
    "MODEL_VERSION",
    "RISKS",
    "LinearModel",
    "Prediction",
    "TrainConfig",
    "Vector",
    "combine",
    "default_cache_dir",
    "extract_features",
    "load_or_train",
    "message_features",
    "model_key",
    "symbolic_features",
    "train_model",
    "training_examples",
]


def _settings_files() -> list[Path]:
    return sorted(TRIAGE_CONTENT_DIR.glob("*.yaml"))


def model_key(
    corpus_dir: Path = CORPUS_DIR, extra: Path | None = None, config: TrainConfig | None = None
) -> str:
    """Hash of everything the trained weights depend on: the corpus, the counsellor labels, the
    lexicon and settings files, the training settings and MODEL_VERSION (not the source code)."""
    h = hashlib.sha256()
    h.update(MODEL_VERSION.encode())
    h.update(file_digest(corpus_files(corpus_dir)).encode())
    h.update(file_digest(_settings_files()).encode())
    h.update(json.dumps(asdict(config or TrainConfig.load()), sort_keys=True).encode())
    if extra is not None:
        h.update(b"extra\0" + Path(extra).read_bytes())
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    return Path(os.environ.get("TRIAGE_CACHE_DIR", "data/cache"))


def training_examples(corpus_dir: Path = CORPUS_DIR, extra: Path | None = None) -> list[Example]:
    return _train_split(load_corpus(corpus_dir)) + load_extra(extra)


def load_or_train(
    cache_dir: Path | None = None, corpus_dir: Path = CORPUS_DIR, extra: Path | None = None
) -> LinearModel:
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = model_key(corpus_dir, extra)
    path = cache_dir / f"triage-model-{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, LinearModel):
                return model
        except Exception:  # a corrupt or foreign file: retrain and overwrite
            log.warning("triage model cache %s unreadable; retraining", path.name)
    examples = training_examples(corpus_dir, extra)
    if not examples:
        raise RuntimeError(f"no training examples in {corpus_dir}")
    # Said at WARNING so that it shows in the terminal chat too: the first start waits for this.
    log.warning(
        "training the triage model from %d messages (first start or new data): about half a minute",
        len(examples),
    )
    model = train_model(examples, calibration=_test_split(load_corpus(corpus_dir)))
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
    # Keep the cache small: models of earlier data go (the newest few stay, e.g. with and without
    # counsellor labels).
    old = sorted(cache_dir.glob("triage-model-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[3:]:
        try:
            stale.unlink()
        except OSError:
            pass
    return model
