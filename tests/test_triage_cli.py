"""Command-line triage: JSON lines in, JSON lines out; the held-out evaluation report; counsellor
labels before and after."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.triage import model as model_mod
from bot.triage import triager as triager_mod
from bot.triage.cli import run_eval, run_triage

ROOT = Path(__file__).resolve().parents[1]


def test_run_triage_reads_and_writes_json_lines(triage_cache):
    stdin = io.StringIO(
        json.dumps({"text": "ölmək istəyirəm"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"text": "Uşağımı birinci sinfə necə yazdırım?"}, ensure_ascii=False)
        + "\n"
    )
    stdout = io.StringIO()
    assert run_triage(stdin, stdout, triage_cache) == 0
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"category", "risk", "escalate", "language", "topics", "signals"}
    assert lines[0]["risk"] == "urgent" and lines[0]["escalate"] is True
    assert lines[0]["signals"][0]["label"]
    assert lines[1]["category"] == "education" and lines[1]["escalate"] is False


def test_run_triage_reports_bad_lines_and_carries_on(triage_cache):
    stdin = io.StringIO('not json\n{"no_text": 1}\n{"text": "salam"}\n')
    stdout = io.StringIO()
    assert run_triage(stdin, stdout, triage_cache) == 1
    out = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert "error" in out[0] and "error" in out[1]
    assert out[2]["category"] == "other"


def test_lines_of_one_conversation_are_triaged_in_context(triage_cache):
    stdin = io.StringIO(
        '{"conversation": "c1", "text": "yaşamaq istəmirəm"}\n'
        '{"conversation": "c2", "text": "ip almışam"}\n'
        '{"conversation": "c1", "text": "ip almışam"}\n'
    )
    stdout = io.StringIO()
    run_triage(stdin, stdout, triage_cache)
    risks = [json.loads(line)["risk"] for line in stdout.getvalue().splitlines()]
    assert risks == ["urgent", risks[1], "imminent"] and risks[1] != "imminent"


def _figure(report: str, name: str) -> float:
    line = next(line for line in report.splitlines() if line.startswith(name + ":"))
    return float(line.split()[-1].rstrip("%"))


def test_run_eval_prints_the_held_out_figures(triage_cache):
    stdout = io.StringIO()
    assert run_eval(stdout, triage_cache) == 0
    report = stdout.getvalue()
    for needle in ("recall", "precision", "Risk confusion", "independent writers only", "Conversations:"):
        assert needle in report
    # The escalation threshold is chosen for recall on out-of-fold training scores; on the held-out
    # split at least 97% of the urgent and imminent messages must escalate.
    assert _figure(report, "urgent+imminent escalated") >= 97.0
    assert _figure(report, "imminent escalated") >= 97.0
    assert _figure(report, "none escalated (false alarms)") <= 12.0
    assert _figure(report, "category macro-F1") >= 0.78


def test_run_eval_prints_before_and_after_counsellor_labels(tmp_path, monkeypatch):
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    from tests.test_triage_model import write_corpus

    write_corpus(corpus)
    real = model_mod.load_or_train
    monkeypatch.setattr(triager_mod, "load_or_train", lambda c, extra=None: real(c, corpus, extra=extra))
    message = "robot dərnəyi üçün qeydiyyat haradadır"
    data = tmp_path / "check.jsonl"
    conversation = {"conversation": ["salam", message], "risk": "none", "context_only": False}
    data.write_text(
        json.dumps({"text": message, "risk": "none", "category": "health"}) + "\n" + json.dumps(conversation),
        encoding="utf-8",
    )
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        json.dumps({"text": message, "risk": "none", "category": "health"}) + "\n", encoding="utf-8"
    )
    stdout = io.StringIO()
    assert run_eval(stdout, cache, extra=labels, data=data) == 0
    report = stdout.getvalue()
    assert "With the counsellor labels of labels.jsonl" in report
    assert "on check.jsonl: 1 messages" in report
    assert "Conversations: 1;" in report  # a blind batch's conversations are scored too
    before_after = report.split("Before -> after:")[1]
    assert "category macro-F1:" in before_after and "-> 1.000" in before_after


def test_module_entry_point(triage_cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.triage.cli", "--cache-dir", str(triage_cache), "triage"],
        input='{"text": "Мән өлмәк истәјирәм"}\n',
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["risk"] == "urgent" and out["language"] == "az"
