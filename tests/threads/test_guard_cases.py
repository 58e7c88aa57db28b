"""The guard on its labelled set (guard_cases.yaml): recall on posts that identify a client, false holds on posts
that only look as if they might. The figures are printed (pytest -s) and go in docs/BENCHMARKS.md."""

from dataclasses import dataclass
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


@dataclass
class Figures:
    """What the guard does on the labelled set; bench/guard.py prints the same figures for docs/BENCHMARKS.md."""

    identifying: int
    safe: int
    missed: list[str]
    held: dict[str, list[str]]
    by_kind: dict[str, tuple[int, int]]  # kind: (posts expected to have it, posts where it was found)

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / self.identifying

    @property
    def false_holds(self) -> float:
        return len(self.held) / self.safe

    def lines(self) -> list[str]:
        expected = sum(total for total, _ in self.by_kind.values())
        found = sum(hit for _, hit in self.by_kind.values())
        return [
            f"identifying posts: {self.identifying}, stopped {self.identifying - len(self.missed)}: "
            f"recall {self.recall:.1%}{f' (missed: {self.missed})' if self.missed else ''}",
            f"safe posts: {self.safe}, stopped {len(self.held)}: false holds {self.false_holds:.1%}"
            f"{f' ({self.held})' if self.held else ''}",
            f"kinds expected {expected}, found {found} ({found / expected:.1%}): "
            + ", ".join(f"{kind} {hit}/{total}" for kind, (total, hit) in self.by_kind.items()),
        ]


def figures(cases=CASES) -> Figures:
    identifying, safe = cases["identifying"], cases["safe"]
    missed, by_kind = [], {kind: [0, 0] for kind in guard.LABELS}
    for case in identifying:
        kinds = {finding.kind for finding in guard.check(case["text"])}
        if not kinds:
            missed.append(case["id"])
        for kind in case["kinds"]:
            by_kind[kind][0] += 1
            by_kind[kind][1] += kind in kinds
    held = {case["id"]: [guard.LABELS[f.kind] for f in guard.check(case["text"])] for case in safe}
    return Figures(len(identifying), len(safe), missed, {case_id: labels for case_id, labels in held.items() if labels},
                   {kind: tuple(counts) for kind, counts in by_kind.items()})


def test_guard_recall_and_false_holds_on_labelled_set():
    found = figures()
    print("", *found.lines(), sep="\n")
    assert found.recall >= RECALL_GOAL
    assert found.false_holds <= FALSE_HOLD_LIMIT


@pytest.mark.parametrize("case", CASES["identifying"], ids=lambda case: case["id"])
def test_guard_finds_nothing_it_was_not_asked_for(case):
    """A stopped post shows the author what was found: a kind that is not there would be noise."""
    assert {finding.kind for finding in guard.check(case["text"])} <= set(case["kinds"])
