"""What a rule found: where a secret is in the text as read, and its type."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    start: int  # in the view (``TextView.text``)
    end: int
    kind: str
