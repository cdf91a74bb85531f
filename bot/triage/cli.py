"""Command-line triage.

``python -m bot triage`` reads one JSON object per line on stdin (``{"text": "..."}``) and writes one
JSON object per line on stdout (category, risk, escalate, language, topics, signals).  Lines that
share a ``"conversation"`` value accumulate risk: the signals of earlier lines are passed as prior.

``python -m bot triage-eval`` prints the evaluation on the held-out split.

Both are also available as ``python -m bot.triage.cli triage|eval``; ``eval --data FILE`` evaluates
any labelled JSON-lines file instead of the held-out split; ``tune`` runs the threshold
cross-validation on the training split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from bot.domain import Signal


def run_triage(stdin: TextIO, stdout: TextIO, cache_dir: Path | None = None) -> int:
    from bot.triage import load_triager

    triager = load_triager(cache_dir)
    conversations: dict[str, list[Signal]] = {}
    status = 0
    for lineno, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise ValueError('expected a JSON object with a "text" string')
        except ValueError as exc:
            stdout.write(json.dumps({"error": f"line {lineno}: {exc}"}, ensure_ascii=False) + "\n")
            status = 1
            continue
        conv = obj.get("conversation")
        prior = conversations.get(str(conv), []) if conv is not None else []
        result = triager.analyze(obj["text"], prior)
        if conv is not None:
            conversations[str(conv)] = prior + list(result.signals)
        stdout.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        stdout.flush()
    return status


def run_eval(
    stdout: TextIO, cache_dir: Path | None = None, show_misses: bool = False, data: Path | None = None
) -> int:
    from bot.triage import load_triager
    from bot.triage.evaluate import evaluate, format_report, held_out_report, load_labelled

    triager = load_triager(cache_dir)
    if data is not None:
        report = evaluate(triager, load_labelled(data))
        text = format_report(report, show_misses=show_misses, title=data.name)
    else:
        text = format_report(held_out_report(triager), show_misses=show_misses)
    stdout.write(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.triage.cli")
    parser.add_argument("--cache-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("triage", help="triage JSON lines from stdin")
    ev = sub.add_parser("eval", help="evaluate on the held-out split")
    ev.add_argument("--misses", action="store_true", help="list the misclassified test messages")
    ev.add_argument("--data", type=Path, default=None, help="evaluate on this labelled JSON-lines file")
    tune = sub.add_parser("tune", help="cross-validate model thresholds on the training split")
    tune.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "triage":
        return run_triage(sys.stdin, sys.stdout, args.cache_dir)
    if args.command == "eval":
        return run_eval(sys.stdout, args.cache_dir, show_misses=args.misses, data=args.data)
    from bot.triage.evaluate import cross_validate

    print(cross_validate(k=args.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
