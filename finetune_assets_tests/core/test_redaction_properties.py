"""Generated credential forms: key vocabulary x syntax x value shape x obfuscation x position, thousands
of them with a fixed seed. The redactor removes every value from every text of the incident (found
where it stands, then by value wherever else it appears); the scanner, on its own, flags the raw text."""

import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_assets.core.redaction import Redactor
from finetune_assets.core.secret_scan import text_findings

from ..credential_cases import KEYS, OBFUSCATIONS, POSITIONS, SHAPES, SYNTAXES, compose, leaked

EXAMPLES = 3000
REDACTOR = Redactor()
FILLER = {
    "summary": "disk 93% on worker-3, logrotate stuck",
    "reasoning": "rotate logs, then restart the agent",
    "step": '{"action": "restart", "target": "log-agent"}',
    "label": '{"alertname": "DiskPressure", "severity": "page"}',
}

cases = st.builds(
    compose,
    st.sampled_from(KEYS),
    st.sampled_from(SYNTAXES),
    st.sampled_from(SHAPES),
    st.sampled_from(OBFUSCATIONS),
    st.sampled_from(POSITIONS),
    st.integers(0, 2**32).map(random.Random),
)
generated = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run: a failure found once is found again
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@generated
@given(cases)
def test_a_generated_credential_never_survives_anywhere_in_its_incident(case):
    texts = dict(FILLER)
    texts[case.position] = case.text
    # The value named where it stands in one text, and mentioned bare in another of the incident.
    bare_in = "reasoning" if case.position != "reasoning" else "summary"
    texts[bare_in] = f"{texts[bare_in]}; the leaked {case.raw} was rotated"
    returned = ["summary", "reasoning", "step"]
    redacted = REDACTOR.redact_incident([texts[name] for name in returned], Counter(), [texts["label"]])
    label = REDACTOR.redact(texts["label"])  # a label is a text of its own too (the metadata)
    survived = [text for text in [*redacted, label] if leaked(case.core, text)]
    assert survived == [], case


@generated
@given(cases)
def test_the_scanner_alone_flags_every_generated_credential(case):
    assert text_findings(case.text), case
