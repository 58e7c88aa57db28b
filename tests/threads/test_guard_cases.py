"""The guard on its labelled set (guard_cases.yaml): recall on posts that identify a client, false holds on posts
that only look as if they might. The figures are printed (pytest -s) and go in docs/BENCHMARKS.md."""

from pathlib import Path

import pytest
import yaml

from threads import guard

CASES = yaml.safe_load((Path(__file__).parent / "guard_cases.yaml").read_text())
RECALL_GOAL, FALSE_HOLD_LIMIT = 0.95, 0.05


def test_labelled_set_is_large_and_covers_every_kind():
    identifying, safe = CASES["identifying"], CASES["safe"]
    assert len(identifying) >= 50 and len(safe) >= 50 and len(identifying) + len(safe) >= 100
    assert len({case["id"] for case in identifying + safe}) == len(identifying) + len(safe)
    kinds = [kind for case in identifying for kind in case["kinds"]]
    for kind in guard.LABELS:
        assert kinds.count(kind) >= 5, f"fewer than 5 posts with {kind}"


def test_guard_recall_and_false_holds_on_labelled_set():
    identifying, safe = CASES["identifying"], CASES["safe"]
    missed = [case["id"] for case in identifying if not guard.check(case["text"])]
    held = {case["id"]: [guard.LABELS[f.kind] for f in guard.check(case["text"])] for case in safe}
    held = {case_id: labels for case_id, labels in held.items() if labels}
    expected = found = 0
    by_kind = {kind: [0, 0] for kind in guard.LABELS}
    for case in identifying:
        kinds = {finding.kind for finding in guard.check(case["text"])}
        for kind in case["kinds"]:
            by_kind[kind][0] += 1
            by_kind[kind][1] += kind in kinds
        expected, found = expected + len(case["kinds"]), found + len(set(case["kinds"]) & kinds)
    recall = 1 - len(missed) / len(identifying)
    false_holds = len(held) / len(safe)
    print(f"\nidentifying posts: {len(identifying)}, stopped {len(identifying) - len(missed)}: recall {recall:.1%}"
          f"{f' (missed: {missed})' if missed else ''}")
    print(f"safe posts: {len(safe)}, stopped {len(held)}: false holds {false_holds:.1%}"
          f"{f' ({held})' if held else ''}")
    print(f"kinds expected {expected}, found {found} ({found / expected:.1%}): "
          + ", ".join(f"{kind} {hit}/{total}" for kind, (total, hit) in by_kind.items()))
    assert recall >= RECALL_GOAL
    assert false_holds <= FALSE_HOLD_LIMIT


@pytest.mark.parametrize("case", CASES["identifying"], ids=lambda case: case["id"])
def test_guard_finds_nothing_it_was_not_asked_for(case):
    """A stopped post shows the author what was found: a kind that is not there would be noise."""
    assert {finding.kind for finding in guard.check(case["text"])} <= set(case["kinds"])
