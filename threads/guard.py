"""The client-confidentiality guard: finds what in a post could identify a client, before anyone else sees it.

`check(text)` is pure (no database) and takes milliseconds; the presidio engine behind it (threads.guard_rules) is
built once per process, on the first check, from PyPI packages alone: nothing is downloaded. Services call it for
every new post and edit (threads.services, threads.posts) and raise NeedsConfirmation when it finds something; what
happens next (stopped, held, confirmed, released) is recorded by threads.guard_checks.
"""

from dataclasses import dataclass
from functools import cache

A_NUMBER = "a_number"
USCIS_RECEIPT = "uscis_receipt"
SSN = "ssn"
DATE_OF_BIRTH = "date_of_birth"
PHONE = "phone"
EMAIL = "email"
STREET_ADDRESS = "street_address"
RECORD_NUMBER = "record_number"
CLIENT_NAME = "client_name"

# Plain words for the author and the moderators, in the order a summary names them.
LABELS = {
    A_NUMBER: "A-number",
    USCIS_RECEIPT: "USCIS receipt number",
    SSN: "Social Security number",
    DATE_OF_BIRTH: "date of birth",
    RECORD_NUMBER: "medical record, case or ID number",
    CLIENT_NAME: "a client's name",
    PHONE: "a client's phone number",
    EMAIL: "a client's email address",
    STREET_ADDRESS: "a client's street address",
}
THRESHOLD = 0.6
MASK = "•"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    score: float

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def as_record(self) -> dict:
        """What a GuardCheck keeps: the kind and the place, never the text."""
        return {"kind": self.kind, "start": self.start, "end": self.end, "score": round(self.score, 2)}

    @classmethod
    def from_record(cls, record: dict) -> "Finding":
        return cls(record["kind"], record["start"], record["end"], record["score"])


class NeedsConfirmation(Exception):
    """The post was not saved: `findings` could identify a client. The author edits it, or confirms it is not client
    information with a reason (passed back to the service with `check_id`, the GuardCheck that recorded the stop)."""

    def __init__(self, findings: list[Finding], check_id: int | None = None):
        super().__init__(f"The post may identify a client: {summary(findings)}.")
        self.findings, self.check_id = findings, check_id


@cache
def _analyzer():
    from . import guard_rules  # presidio and spaCy take seconds to import: only a process that checks a post pays

    return guard_rules.build_analyzer()


def check(text: str) -> list[Finding]:
    """Everything in `text` that could identify a client, in order; [] when nothing was found."""
    if not text.strip():
        return []
    results = _analyzer().analyze(text=text, language="en", score_threshold=THRESHOLD)
    found = sorted((Finding(r.entity_type, r.start, r.end, r.score) for r in results),
                   key=lambda f: (f.start, -(f.end - f.start), -f.score))
    # Nine digits inside an A-number are not also an SSN: a finding inside another is the same identifier.
    kept: list[Finding] = []
    for finding in found:
        if not any(other.start <= finding.start and finding.end <= other.end for other in kept):
            kept.append(finding)
    return kept


# --- Showing findings without repeating them -----------------------------------------------------------------------

def summary(findings: list[Finding]) -> str:
    """"an A-number and a date of birth": each kind once, in LABELS order."""
    kinds = {finding.kind for finding in findings}
    labels = [label if label.startswith("a ") else f"{'an' if label.startswith('A-') else 'a'} {label}"
              for kind, label in LABELS.items() if kind in kinds]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + f" and {labels[-1]}"


def masked(value: str) -> str:
    """The punctuation and the first letter or digit of each word stay, the rest is hidden: "A•••••••••",
    "M••••• T••••••", "(•••) 5••-••••"."""
    out, word_start = [], True
    for char in value:
        if char.isalnum():
            out.append(char if word_start else MASK)
            word_start = False
        else:
            out.append(char)
            word_start = char.isspace()
    return "".join(out)


EXCERPT_CONTEXT = 30


def excerpt(text: str, finding: Finding, findings: list[Finding]) -> str:
    """A few words either side of the finding, on one line, with it (and any other finding in view) masked."""
    start, end = max(0, finding.start - EXCERPT_CONTEXT), min(len(text), finding.end + EXCERPT_CONTEXT)
    pieces, position = [], start
    for other in findings:
        if other.end <= start or other.start >= end:
            continue
        pieces += [text[position:max(position, other.start)], masked(text[max(position, other.start):other.end])]
        position = other.end
    pieces.append(text[position:end])
    words = " ".join("".join(pieces).split())
    return f"{'…' if start else ''}{words}{'…' if end < len(text) else ''}"


@dataclass(frozen=True)
class Segment:
    text: str
    finding: Finding | None = None


def segments(text: str, findings: list[Finding]) -> list[Segment]:
    """The text cut into plain pieces and found pieces, for a preview that marks what was found."""
    pieces, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position or finding.end > len(text):
            continue  # a finding recorded for another version of the text
        pieces += [Segment(text[position:finding.start]), Segment(text[finding.start:finding.end], finding)]
        position = finding.end
    pieces.append(Segment(text[position:]))
    return [piece for piece in pieces if piece.text]
