"""Command-line triage.

``python -m bot triage`` reads one JSON object per line on stdin (``{"text": "..."}``) and writes one
JSON object per line on stdout (category, risk, escalate, language, topics, signals).  Lines that
share a ``"conversation"`` value are triaged in context: the earlier messages are passed as history
and their signals as prior.

``python -m bot triage-eval`` prints the evaluation on the held-out split (:func:`run_eval`).

Both are also available as ``python -m bot.triage.cli triage|eval``; ``eval --data FILE`` evaluates
any labelled JSON-lines file instead, ``eval --extra FILE`` also retrains with counsellor labels and
prints the figures before and after.
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
    conversations: dict[str, tuple[list[Signal], list[str]]] = {}
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
        prior, history = conversations.get(str(conv), ([], [])) if conv is not None else ([], [])
        result = triager.analyze(obj["text"], tuple(prior), history=tuple(history))
        if conv is not None:
            conversations[str(conv)] = (
                prior + [s for s in result.signals if s not in prior],
                [*history, obj["text"]],
            )
        stdout.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        stdout.flush()
    return status


def run_eval(
    out: TextIO,
    cache_dir: Path | None = None,
    extra: Path | None = None,
    show_misses: bool = False,
    data: Path | None = None,
) -> int:
    """Print the figures on the held-out split (or on ``data``); with ``extra`` counsellor labels,
    retrain with them and print the figures before and after."""
    from bot.triage import load_triager
    from bot.triage.evaluate import (
        evaluate,
        evaluate_conversations,
        format_conversations,
        format_report,
        held_out_reports,
        load_conversation_lines,
        load_conversations,
        load_labelled,
    )

    def reports(triager) -> list:
        if data is not None:
            return [evaluate(triager, load_labelled(data), Path(data).name)]
        return held_out_reports(triager)

    before = load_triager(cache_dir)
    meta = before.model.meta
    out.write(
        f"Model {meta.get('version', '?')}: {meta.get('examples', '?')} training messages; risk thresholds "
        f"chosen on {meta.get('thresholds_from', '?')} "
        f"(escalation {before.model.thresholds['urgent']:.3f})\n\n"
    )
    first = reports(before)
    for rep in first:
        out.write(format_report(rep, show_misses=show_misses and extra is None) + "\n\n")
    convs = load_conversations() if data is None else load_conversation_lines(data)
    if convs:
        out.write(format_conversations(evaluate_conversations(before, convs)) + "\n")
    if extra is not None:
        after = load_triager(cache_dir, extra=extra)
        second = reports(after)
        out.write(f"\nWith the counsellor labels of {Path(extra).name} added to training:\n\n")
        for rep in second:
            out.write(format_report(rep, show_misses=show_misses) + "\n\n")
        out.write("Before -> after:\n")
        for b, a in zip(first, second, strict=True):
            out.write(f"  {b.title}\n")
            for (name, vb), va in zip(b.summary().items(), a.summary().values(), strict=True):
                out.write(f"    {name + ':':<32} {vb:.3f} -> {va:.3f}\n")
    out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.triage.cli")
    parser.add_argument("--cache-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("triage", help="triage JSON lines from stdin")
    ev = sub.add_parser("eval", help="evaluate on the held-out split")
    ev.add_argument("--misses", action="store_true", help="list the misclassified messages")
    ev.add_argument("--data", type=Path, default=None, help="evaluate on this labelled JSON-lines file")
    ev.add_argument("--extra", type=Path, default=None, help="counsellor labels: figures before and after")
    args = parser.parse_args(argv)
    if args.command == "triage":
        return run_triage(sys.stdin, sys.stdout, args.cache_dir)
    return run_eval(sys.stdout, args.cache_dir, extra=args.extra, show_misses=args.misses, data=args.data)


if __name__ == "__main__":
    sys.exit(main())
