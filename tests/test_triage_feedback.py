"""The counsellors teach the triage, end to end: a person writes, a counsellor closes the case in the
staff console and corrects its category, ``triage-learn`` exports the label, and the model retrained
with it answers that message differently."""

from __future__ import annotations

import io
import json
from pathlib import Path

from bot.app import App
from bot.channels.terminal import Console, run_jsonl
from bot.domain import Category
from bot.triage import model as model_mod
from bot.triage import triager as triager_mod
from bot.triage_labels import export_labels
from tests.test_triage_model import write_corpus

MESSAGE = "robot dərnəyi üçün qeydiyyat haradadır"


async def test_a_correction_in_the_console_changes_the_retrained_answer(
    sqlite_app: App, tmp_path: Path, monkeypatch
) -> None:
    # a small corpus, so that one label can move the model (the real corpus is too large for that)
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus)
    real = model_mod.load_or_train
    monkeypatch.setattr(triager_mod, "load_or_train", lambda c, extra=None: real(c, corpus, extra=extra))
    before = triager_mod.load_triager(cache).analyze(MESSAGE).category
    wanted = Category.LEGAL if before != Category.LEGAL else Category.HEALTH

    lines = [{"user": "p1", "text": MESSAGE}, {"user": "p1", "button": "human"}]
    await run_jsonl(sqlite_app, io.StringIO("".join(json.dumps(x) + "\n" for x in lines)), io.StringIO())
    [case] = await sqlite_app.desk.queue()

    out = io.StringIO()
    console = Console(sqlite_app, "Aynur", out, lang="en")
    assert await console.command(f"claim {case.id}")
    assert await console.command(f"close {case.id} advice {wanted.value}")
    assert sqlite_app.content.t("staff.review.done", "en", case=case.id) in out.getvalue()

    labels = tmp_path / "triage_labels.jsonl"
    assert await export_labels(sqlite_app, labels) == 1
    [row] = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    assert row["text"] == MESSAGE and row["category"] == wanted.value
    assert labels.stat().st_mode & 0o077 == 0  # the person's words: readable by the owner only

    after = triager_mod.load_triager(cache, extra=labels).analyze(MESSAGE).category
    assert after == wanted != before
