"""The secrets corpus through the redactor: every secret becomes a placeholder, neither the scanner nor
detect-secrets (an outside oracle) finds anything afterwards, and secret-free text keeps its characters."""

import difflib
import json
from collections import Counter

import pyarrow as pa
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from finetune_assets.core.redaction import Redactor
from finetune_assets.core.secret_scan import scan_rows, text_findings

from ..secrets_corpus import CLEAN, GENERATORS, SECRETS


def test_the_corpus_is_large_and_varied():
    assert len({secret.value for secret in SECRETS}) == len(SECRETS) >= 150
    assert len(GENERATORS) >= 40 and len(CLEAN) >= 300


def test_every_secret_in_the_corpus_is_redacted_and_nothing_is_found_afterwards(tmp_path):
    counts = Counter()
    ids = pa.array([f"INC-{n}" for n in range(len(SECRETS))])
    texts = pa.array([secret.text for secret in SECRETS])
    redacted = Redactor().redact_incidents(ids, {"input": texts}, {}, counts)["input"]
    survived = [(s.kind, s.value) for s, text in zip(SECRETS, redacted.to_pylist(), strict=True) if s.value in text]
    assert survived == []
    assert [
        (s.kind, text_findings(t)) for s, t in zip(SECRETS, redacted.to_pylist(), strict=True) if text_findings(t)
    ] == []
    written = tmp_path / "redacted.jsonl"
    written.write_text("".join(json.dumps({"input": text}, ensure_ascii=False) + "\n" for text in redacted.to_pylist()))
    with default_settings():
        oracle = SecretsCollection()
        oracle.scan_file(str(written))
    assert oracle.json() == {}
    # The same raw texts are found by the oracle: it is a fair judge of the redacted ones.
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps({"input": s.text}, ensure_ascii=False) + "\n" for s in SECRETS))
    with default_settings():
        before = SecretsCollection()
        before.scan_file(str(raw))
    kinds_seen = {SECRETS[finding["line_number"] - 1].kind for found in before.json().values() for finding in found}
    assert len(kinds_seen) >= 15, kinds_seen
    assert sum(counts.values()) >= len(SECRETS)


def test_secret_free_incident_text_keeps_at_least_98_percent_of_its_characters():
    redactor = Redactor()
    total = kept = 0
    for text in CLEAN:
        redacted = redactor.redact(text)
        total += len(text)
        kept += sum(
            block.size for block in difflib.SequenceMatcher(None, text, redacted, autojunk=False).get_matching_blocks()
        )
    share = kept / total
    print(f"\nclean corpus: {len(CLEAN)} texts, {total} characters, {share:.2%} kept")
    assert share >= 0.98
    assert [text for text in CLEAN if text_findings(text)] == []  # the scanner would not block them either
    assert scan_rows(pa.array(CLEAN)) == {}
    untouched = sum(redactor.redact(text) == text for text in CLEAN)
    print(f"clean corpus: {untouched} of {len(CLEAN)} texts untouched")
    assert untouched >= 0.95 * len(CLEAN)
