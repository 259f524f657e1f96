"""Credential forms by hand: the classes a review found passing both engines, each with the value that
must go, and look-alikes that must stay. Shared by the module tests and the lineage test."""

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from finetune_assets.core.redaction import Redactor
from finetune_assets.core.secret_scan import scan_rows, text_findings

SECRET = "Xk9#mQ2&vL7;pZ"


@dataclass(frozen=True)
class Form:
    name: str
    text: str
    value: str = SECRET


def redacted_as_a_column(text: str) -> str:
    """The text redacted as the pipeline does it, through the column prefilter."""
    columns = Redactor().redact_incidents(pa.array(["INC-1"]), {"text": pa.array([text])}, {}, Counter())
    return columns["text"][0].as_py()


def leaked(text: str, value: str) -> bool:
    """Whether any part of the value longer than a third of it is still in the redacted text, redacted
    alone or as a column."""
    redacted = Redactor().redact(text) + "\n" + redacted_as_a_column(text)
    piece = max(4, len(value) // 3)
    return any(value[i : i + piece] in redacted for i in range(len(value) - piece + 1))


def check(form: Form) -> None:
    """The redactor removes the whole value; the scanner, on its own, flags the raw text and passes
    the redacted one."""
    assert not leaked(form.text, form.value), Redactor().redact(form.text)
    assert text_findings(form.text), f"the scanner misses {form.name}"
    assert scan_rows(pa.array([form.text])), f"the scanner's prefilter misses {form.name}"
    assert text_findings(Redactor().redact(form.text)) == [], Redactor().redact(form.text)


def kept(text: str) -> None:
    """Text without a secret: untouched by the redactor, passed by the scanner."""
    assert Redactor().redact(text) == text
    assert text_findings(text) == []
