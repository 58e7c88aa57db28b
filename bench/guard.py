"""How well and how fast the confidentiality guard reads posts: its figures on the labelled set, and its time.

    uv run python bench/guard.py

No database: threads.guard.check is pure. Prints recall and false holds on tests/threads/guard_cases.yaml (the
figures the suite asserts), the time to build the engine (once per process, on the first post), and the time per
post over the labelled set and for long posts. docs/BENCHMARKS.md keeps the results with the machine they came from.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def per_post_ms(texts: list[str], rounds: int) -> list[float]:
    from threads import guard

    times = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            guard.check(text)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main():
    start = time.perf_counter()
    from threads import guard

    guard.check("The first post builds the engine.")
    print(f"engine built in {time.perf_counter() - start:.2f} s (imports included)")

    from tests.threads.test_guard_cases import CASES, figures

    print(*figures().lines(), sep="\n")
    texts = [case["text"] for case in CASES["identifying"] + CASES["safe"]]
    times = per_post_ms(texts, rounds=5)
    mean_chars = statistics.mean(len(text) for text in texts)
    print(f"labelled set: {len(texts)} posts of {mean_chars:.0f} characters on average, {len(times)} checks: "
          f"median {statistics.median(times):.1f} ms, 95th percentile {statistics.quantiles(times, n=20)[-1]:.1f} ms, "
          f"slowest {max(times):.1f} ms")
    long_post = "\n\n".join(texts[:40])
    long_times = per_post_ms([long_post], rounds=10)
    print(f"a long post ({len(long_post):,} characters): median {statistics.median(long_times):.0f} ms")


if __name__ == "__main__":
    main()
