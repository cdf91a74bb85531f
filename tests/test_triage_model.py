"""The trained classifier: trained from the corpus, cached, retrained when the corpus changes,
never trained on the held-out split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain import Category
from bot.triage import corpus as corpus_mod
from bot.triage import model as model_mod
from bot.triage.model import extract_features, load_or_train
from bot.triage.normalize import normalize

TINY = [
    ("məktəbə qəbul nə vaxt başlayır?", "education", "none", ["school"], "train"),
    ("dərslik haradan alınır?", "education", "none", ["school"], "train"),
    ("imtahan nəticələri nə vaxt çıxır?", "education", "none", ["school"], "train"),
    ("uşağın pasportu necə alınır?", "legal", "none", ["legal_help"], "train"),
    ("aliment nə qədərdir?", "legal", "none", ["parents_divorce"], "train"),
    ("qəyyumluq sənədləri hansılardır?", "legal", "none", ["legal_help"], "train"),
    ("çox tənhayam", "psychological", "elevated", ["loneliness"], "train"),
    ("ölmək istəyirəm", "psychological", "urgent", ["suicide"], "train"),
    ("həbləri içdim", "psychological", "imminent", ["suicide"], "train"),
    ("atam məni döyür", "social", "urgent", ["abuse"], "train"),
    ("sızanaqlar keçmir", "health", "none", ["puberty"], "train"),
    ("salam", "other", "none", [], "train"),
    ("zyxwvutsrq marker only in the test line", "other", "none", [], "test"),
]


def write_corpus(directory: Path, rows=TINY) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "tiny.jsonl").open("w", encoding="utf-8") as fh:
        for text, cat, risk, topics, split in rows:
            fh.write(
                json.dumps(
                    {
                        "text": text,
                        "category": cat,
                        "risk": risk,
                        "topics": topics,
                        "lang": "az",
                        "who": "child",
                        "split": split,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        fh.write('{"text": "a line still being writ')  # a half-written line is skipped


def test_model_is_trained_once_then_loaded_from_the_cache(tmp_path, monkeypatch):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    calls = []
    real_train = model_mod.train_model
    monkeypatch.setattr(model_mod, "train_model", lambda ex, *a, **k: calls.append(len(ex)) or real_train(ex))
    first = load_or_train(cache, corpus)
    assert calls == [12]  # 12 train lines: the test line and the broken line are not used
    assert len(list(cache.glob("triage-model-*.pkl"))) == 1
    second = load_or_train(cache, corpus)
    assert calls == [12]  # loaded, not retrained
    assert second.vocab == first.vocab


def test_a_corpus_change_retrains_and_replaces_the_cache(tmp_path):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    load_or_train(cache, corpus)
    old = set(cache.glob("triage-model-*.pkl"))
    write_corpus(corpus, [*TINY, ("yeni sətir: dostumla küsmüşük", "psychological", "none", [], "train")])
    load_or_train(cache, corpus)
    new = set(cache.glob("triage-model-*.pkl"))
    assert len(new) == 1 and new != old


def test_the_test_split_never_reaches_training(tmp_path):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    model = load_or_train(cache, corpus)
    assert "w:zyxwvutsrq" not in model.vocab
    assert not any("zyxw" in f for f in model.vocab)


def test_a_corrupt_cache_file_is_replaced(tmp_path):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    key_file = cache / f"triage-model-{model_mod.model_key(corpus)}.pkl"
    cache.mkdir()
    key_file.write_bytes(b"not a pickle")
    model = load_or_train(cache, corpus)
    assert model.vocab


def test_real_corpus_train_and_test_splits_are_disjoint():
    examples = corpus_mod.load_corpus()
    train = {e.text.casefold() for e in corpus_mod.train_split(examples)}
    test = {e.text.casefold() for e in corpus_mod.test_split(examples)}
    assert train and test
    assert not train & test


def test_features_use_folded_char_ngrams_so_spellings_share_them():
    a = extract_features(normalize("özümü öldürmək istəyirəm").folded)
    b = extract_features(normalize("ozumu oldurmek isdiyirem").folded)
    shared = set(a) & set(b)
    assert len(shared) / len(set(a)) > 0.9


def test_the_real_model_predicts_categories(triager):
    cases = {
        "birinci sinfə qəbul üçün hansı sənədlər lazımdır?": Category.EDUCATION,
        "keçmiş ərim aliment ödəmir, məhkəməyə necə verim?": Category.LEGAL,
        "sızanaqlardan necə qurtulum?": Category.HEALTH,
        "ünvanlı sosial yardım üçün hara müraciət edim?": Category.SOCIAL,
        "salam, siz botsunuz?": Category.OTHER,
        "çox tənhayam, heç kimlə danışmıram": Category.PSYCHOLOGICAL,
        "как оформить опекунство над внуком?": Category.LEGAL,
        "how do i quit vaping?": Category.HEALTH,
    }
    wrong = {t: triager.analyze(t).category for t, c in cases.items() if triager.analyze(t).category != c}
    assert not wrong


def test_topics_come_from_the_taxonomy(triager):
    from bot.triage.resources import topic_categories

    known = set(topic_categories())
    for text in ["ölmək istəyirəm", "imtahandan qorxuram", "aliment ödəmir", "veyp çəkirəm", "salam"]:
        assert set(triager.analyze(text).topics) <= known


@pytest.mark.parametrize("text", ["", "   ", "😀", "?!", "1234"])
def test_degenerate_messages_do_not_break_triage(triager, text):
    result = triager.analyze(text)
    assert result.category in Category
    assert not result.escalate
