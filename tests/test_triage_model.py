"""The trained classifier: trained from the corpus, cached on the data, never trained on the held-out
split, and taught by counsellor labels."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.domain import Category
from bot.triage import corpus as corpus_mod
from bot.triage import model as model_mod
from bot.triage import triager as triager_mod
from bot.triage.model import MODEL_VERSION, extract_features, load_or_train, model_key
from bot.triage.normalize import fold, normalize
from bot.triage.stem import stem

TINY = [
    ("məktəbə qəbul nə vaxt başlayır?", "education", "none"),
    ("dərslik haradan alınır?", "education", "none"),
    ("imtahan nəticələri nə vaxt çıxır?", "education", "none"),
    ("müəllim dərsdə çox sual verir", "education", "none"),
    ("uşağın pasportu necə alınır?", "legal", "none"),
    ("aliment nə qədərdir?", "legal", "none"),
    ("qəyyumluq sənədləri hansılardır?", "legal", "none"),
    ("boşanandan sonra uşaq kimdə qalır?", "legal", "none"),
    ("çox tənhayam", "psychological", "elevated"),
    ("hər gün ağlayıram", "psychological", "elevated"),
    ("ölmək istəyirəm", "psychological", "urgent"),
    ("yaşamaq istəmirəm", "psychological", "urgent"),
    ("həbləri içdim indi başım fırlanır", "psychological", "imminent"),
    ("bu gecə özümü öldürəcəm", "psychological", "imminent"),
    ("atam məni döyür", "social", "urgent"),
    ("evdə yemək yoxdur", "social", "urgent"),
    ("sızanaqlar keçmir", "health", "none"),
    ("dişim ağrıyır", "health", "none"),
    ("salam", "other", "none"),
    ("sağ olun", "other", "none"),
]
HELD_OUT = ("zyxwvutsrq marker only in the held-out line", "other", "none")


def write_corpus(directory: Path, rows=TINY) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "tiny.jsonl").open("w", encoding="utf-8") as fh:
        for text, cat, risk in rows:
            fh.write(
                json.dumps(
                    {"text": text, "category": cat, "risk": risk, "split": "train"}, ensure_ascii=False
                )
            )
            fh.write("\n")
        text, cat, risk = HELD_OUT
        fh.write(json.dumps({"text": text, "category": cat, "risk": risk, "split": "test"}) + "\n")
        fh.write('{"text": "a line still being writ')  # a half-written line is skipped


def test_model_is_trained_once_then_loaded_from_the_cache(tmp_path, monkeypatch):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    calls = []
    real_train = model_mod.train_model
    monkeypatch.setattr(model_mod, "train_model", lambda ex, *a, **k: calls.append(len(ex)) or real_train(ex))
    first = load_or_train(cache, corpus)
    assert calls == [len(TINY)]  # the held-out line and the broken line are not used
    second = load_or_train(cache, corpus)
    assert calls == [len(TINY)]  # loaded, not retrained
    assert second.vocab == first.vocab and first.meta["version"] == MODEL_VERSION


def test_the_cache_key_follows_the_data_not_the_code(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    key = model_key(corpus)
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"text": "salam", "risk": "none", "category": "other"}\n', encoding="utf-8")
    assert model_key(corpus, extra=labels) != key
    write_corpus(corpus, [*TINY, ("dostumla küsmüşük", "psychological", "elevated")])
    assert model_key(corpus) != key


def test_the_held_out_split_never_reaches_training(tmp_path):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    model = load_or_train(cache, corpus)
    assert not any("zyxw" in f for f in model.vocab)


def test_a_corrupt_cache_file_is_replaced(tmp_path):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    cache.mkdir()
    (cache / f"triage-model-{model_key(corpus)}.pkl").write_bytes(b"not a pickle")
    assert load_or_train(cache, corpus).vocab


def test_counsellor_labels_change_the_answer_after_retraining(tmp_path, monkeypatch):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    real = model_mod.load_or_train
    monkeypatch.setattr(triager_mod, "load_or_train", lambda c, extra=None: real(c, corpus, extra=extra))
    message = "robot dərnəyi üçün qeydiyyat haradadır"
    before = triager_mod.load_triager(cache).analyze(message)
    wanted = Category.HEALTH if before.category != Category.HEALTH else Category.LEGAL
    labels = tmp_path / "counsellor.jsonl"
    row = {"text": message, "risk": "none", "category": wanted.value, "lang": "az"}
    labels.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    after = triager_mod.load_triager(cache, extra=labels).analyze(message)
    assert after.category == wanted != before.category
    assert len(list(cache.glob("triage-model-*.pkl"))) == 2  # with and without the labels


def test_the_real_corpus_is_large_and_mostly_independent():
    examples = corpus_mod.load_corpus()
    assert len(examples) >= 10_000
    batches = Counter(e.batch for e in examples)
    assert batches["independent"] >= len(examples) / 4
    assert all(e.source for e in examples)
    train = {normalize(e.text).folded for e in corpus_mod.train_split(examples)}
    test = {normalize(e.text).folded for e in corpus_mod.test_split(examples)}
    assert train and test and not train & test
    indep = [e for e in examples if e.batch == "independent"]
    share = sum(e.split == "test" for e in indep) / len(indep)
    assert 0.13 <= share <= 0.17  # about 15% of every independent batch is held out


def test_features_are_shared_across_spellings_and_scripts():
    def feats(text):
        return set(extract_features(normalize(text).folded))

    for a, b in [
        ("özümü öldürmək istəyirəm", "ozumu oldurmek isdiyirem"),
        ("не хочу жить больше", "ne xochu jit bolshe"),
        ("мне плохо", "mne ploho"),
    ]:
        fa, fb = feats(a), feats(b)
        assert len(fa & fb) / len(fa) > 0.9, (a, b)
    assert stem(fold("içdim")) == stem(fold("içəcəm")) == stem(fold("icmisem"))


def test_the_real_model_and_its_thresholds(triager):
    model = triager.model
    assert model.meta["examples"] >= 8_000
    assert 0.0 < model.thresholds["urgent"] <= model.thresholds["context"] < 1.0
    cases = {
        "birinci sinfə qəbul üçün hansı sənədlər lazımdır?": Category.EDUCATION,
        "keçmiş ərim aliment ödəmir, məhkəməyə necə verim?": Category.LEGAL,
        "ünvanlı sosial yardım üçün hara müraciət edim?": Category.SOCIAL,
        "how do i quit vaping?": Category.HEALTH,
    }
    assert {t: triager.analyze(t).category for t in cases} == cases


@pytest.mark.parametrize("text", ["", "   ", "😀", "?!", "1234"])
def test_degenerate_messages_do_not_break_triage(triager, text):
    result = triager.analyze(text)
    assert result.category in Category and not result.escalate


def test_the_fast_vector_equals_the_training_features(triager):
    """Analysis builds the vector from cached per-word features; it must equal the training path."""
    from bot.triage.model import message_features, symbolic_features

    rows = [
        json.loads(line)
        for line in (Path(__file__).parent / "data" / "triage_audit.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    for text in [r["text"] for r in rows] + ["", "😀", "1234", "a a a a"]:
        norm = normalize(text)
        a = triager.rules.assess(norm.folded)
        slow = triager.model.vector(message_features(norm, triager.rules, a))
        fast = triager.model.message_vector(norm.folded, symbolic_features(norm, a))
        assert dict(zip(slow.ids.tolist(), slow.vals.tolist(), strict=True)) == pytest.approx(
            dict(zip(fast.ids.tolist(), fast.vals.tolist(), strict=True))
        ), text
