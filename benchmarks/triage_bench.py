"""Speed of the triage: time per message on one core (p50 / p90 / p99 / max), model load and training.

Run:  python benchmarks/triage_bench.py [--rounds 3] [--cache-dir data/cache] [--train]

The messages are every line of the triage corpus (all splits; speed does not depend on labels) plus
a few long and unusual ones.  Numbers are wall-clock per call to Triager.analyze after a warm-up:
once for each message alone, once with the conversation's earlier messages as history (up to six:
the conversations of the corpus, and windows of consecutive corpus lines).  The target is p99
under 2 ms.
"""

from __future__ import annotations

import os

# One core: keep numpy/BLAS from spreading the small matrix product over threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.triage import load_triager  # noqa: E402
from bot.triage.corpus import load_corpus  # noqa: E402
from bot.triage.evaluate import load_conversations  # noqa: E402
from bot.triage.model import train_model, training_examples  # noqa: E402

EXTRA = [
    "",
    "😭😭😭😭😭",
    "salam " * 50,
    "Мән бу ҝеҹә өзүмү өлдүрәҹәјәм, һәбләри јығмышам, һамыја әлвида " * 5,
    "ozumu oldurmek isteyirem bu gece korpuden atilacam hec kim meni saxlamasin " * 10,
    "i want to die, i have the pills ready, goodbye everyone, tonight is the night " * 8,
    "мама, прости меня, я больше не могу так жить, таблетки уже выпила, прощайте " * 8,
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return ordered[index]


def report(name: str, times: list[float], rounds: int) -> None:
    print(f"{name}: {len(times) // rounds} messages x {rounds} rounds = {len(times)} calls (one core)")
    p50, p90, p99 = (percentile(times, q) for q in (0.50, 0.90, 0.99))
    print(
        f"  per message: p50 {p50:.3f} ms | p90 {p90:.3f} ms | p99 {p99:.3f} ms | "
        f"max {max(times):.3f} ms | mean {statistics.fmean(times):.3f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="passes over the messages")
    parser.add_argument("--cache-dir", type=Path, default=None, help="model cache (default: a temp dir)")
    parser.add_argument("--train", action="store_true", help="also time a fresh training run")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time each call by the CPU time of this thread (what the triage costs on one core even "
        "when other work shares the machine) instead of wall-clock time",
    )
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass

    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="triage-bench-"))
    t0 = time.perf_counter()
    triager = load_triager(cache_dir)
    first_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_triager(cache_dir)
    cached_load = time.perf_counter() - t0

    clock = time.thread_time if args.cpu_time else time.perf_counter
    print(
        "timing:",
        "CPU time of the thread" if args.cpu_time else "wall clock",
        f"(load average {os.getloadavg()[0]:.1f})",
    )
    texts = [e.text for e in load_corpus()] + EXTRA
    for text in texts[:300]:  # warm-up
        triager.analyze(text)
    times: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            start = clock()
            triager.analyze(text)
            times.append((clock() - start) * 1000.0)
    report("alone", times, args.rounds)

    # In context: each message with up to six earlier ones, as the engine passes them.
    conversations = [c["conversation"] for c in load_conversations()]
    conversations += [texts[i : i + 7] for i in range(0, min(len(texts), 7 * 600), 7)]
    in_context: list[float] = []
    for _ in range(args.rounds):
        for conv in conversations:
            for i, text in enumerate(conv):
                start = clock()
                triager.analyze(text, history=tuple(conv[max(0, i - 6) : i]))
                in_context.append((clock() - start) * 1000.0)
    report("with history", in_context, args.rounds)
    p99 = max(percentile(times, 0.99), percentile(in_context, 0.99))
    print(f"first load (trains if no cached model): {first_load:.2f} s")
    print(f"cached load: {cached_load * 1000:.0f} ms")
    if args.train:
        examples = training_examples()
        t0 = time.perf_counter()
        train_model(examples)
        print(f"training on {len(examples)} messages: {time.perf_counter() - t0:.2f} s")
    print("target p99 < 2 ms:", "OK" if p99 < 2.0 else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
