"""The independent scanner: finds what the redactor should have caught, and says where, not what."""

import random
import string

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_assets.core import secret_scan
from finetune_assets.core.redaction import Redactor
from finetune_assets.core.secret_scan import ScanReport, scan_batch, scan_columns, scan_rows, text_findings

from .test_redaction import CASES

FOUND = [
    ("AKIAIOSFODNN7EXAMPLE", "aws_key_id"),
    ("ghp_" + "A1b2" * 9, "github"),
    ("glpat-abcdefghij0123456789", "gitlab"),
    ("xoxb-123456789012-abcdef", "slack"),
    ("sk-abcdefghijklmnopqrstuv", "openai"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "jwt"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "private_key"),
    ("mysql://root:hunter2@db", "url_password"),
    ("db_password = hunter2!", "credential_assignment"),
    ("the key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "high_entropy"),
]


@pytest.mark.parametrize("text, kind", FOUND)
def test_secret_shapes_are_found(text, kind):
    assert kind in text_findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "password=[REDACTED:password] and postgres://u:[REDACTED:url_credentials]@db",
        "KubeDeploymentReplicasMismatch2Critical on node-exporter-7f9c8d6b5-x2kqp",
        "image sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "evidence 3f2b8c1e-8d2a-4f7b-9c3e-1a2b3c4d5e6f, tokens: 4096, passed: true",
    ],
)
def test_redacted_and_ordinary_text_is_clean(text):
    assert text_findings(text) == []


def test_nothing_the_redactor_handles_survives_it():
    redactor = Redactor()
    for text, _secret, _, _ in CASES:
        assert text_findings(redactor.redact(text)) == [], text


def test_the_report_names_lines_and_kinds_never_values():
    report = ScanReport()
    scan_batch([pa.array(["clean", "pwd: hunter2!", None, "AKIAIOSFODNN7EXAMPLE"], pa.large_string())], 10, report)
    assert report.counts == {"credential_assignment": 1, "aws_key_id": 1}
    assert report.examples == ["line 11: credential_assignment", "line 13: aws_key_id"]
    assert not any("hunter2" in example or "AKIA" in example for example in report.examples)


def test_an_encoded_blob_is_data_not_a_credential():
    blob = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=200_000))
    assert text_findings(f"core dump {blob} end") == []
    assert sorted(text_findings(f"key {blob[:40]} end")) == ["credential_assignment", "high_entropy"]


def test_the_column_scan_finds_what_the_row_scan_finds():
    rng = random.Random(11)

    def token(length):
        return "".join(rng.choices(string.ascii_letters + string.digits, k=length))

    texts = [
        f"plain {token(40)} text",  # one random token
        f"{token(30)}|{token(29)}|{token(1024)}|{token(1025)}",  # at the length bounds
        f"中文{token(36)}中文 and HTTP5xxSpike",  # non-ASCII around a token
        f"two: {token(50)} {token(60)} and pwd: {token(12)}",  # tokens and an assignment
        "HTTP5xxSpike K8sNodeNotReady " + "a1b2c3d4" * 6,  # mixed but short, long but lower case
        f"{token(20)}[REDACTED:password]{token(15)}",  # one run once the placeholder reads as a word
        None,
        "",
    ]
    column = pa.array(texts, pa.large_string())
    report = ScanReport()
    scan_batch([column], 1, report)

    expected = ScanReport()
    for line, text in enumerate(texts, start=1):
        for kind in text_findings(text or ""):
            expected.add(line, kind)
    assert report.counts == expected.counts and report.counts["high_entropy"] >= 5
    assert report.examples == expected.examples


# Pieces that make runs of token characters long and short, with and without capitals and digits,
# joined by placeholders, brackets and separators: where the "tokens" prefilter could be too narrow.
RUN_PIECES = st.sampled_from(
    [
        "a",
        "Z",
        "7",
        "xY9",
        "k" * 9,
        "Q" * 12,
        "5" * 12,
        "-",
        "_",
        "+/=",
        "[REDACTED:password]",
        "[",
        "]",
        ":",
        " ",
        "|",
        "中",
        "ｗ",
        "\n",
    ]
)


@settings(
    max_examples=400, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.lists(RUN_PIECES, max_size=40).map("".join), min_size=1, max_size=8))
def test_the_prefilters_let_through_every_row_the_row_scan_finds_something_in(texts):
    found = scan_rows(pa.array(texts, pa.large_string()))
    assert found == {row: kinds for row, text in enumerate(texts) if (kinds := text_findings(text))}


def test_the_tokens_prefilter_passes_every_long_run_with_a_capital_and_a_digit():
    """Every way a run of 30 to 31 characters can hold its capital and its digit (either first), with
    and without a placeholder inside; a run one character short stays out."""
    prefilter = secret_scan.PREFILTERS["tokens"]
    texts, expected = [], []
    for length in (29, 30, 31):
        for first, then in (("Q", "7"), ("7", "Q")):
            for before in range(length - 1):
                for between in range(length - 1 - before):
                    after = length - 2 - before - between
                    run = "a" * before + first + "b" * between + then + "c" * after
                    texts += [f"x {run} y", f"x {run[:5]}[REDACTED:password]{run[5:]} y"]
                    expected += [length >= 30, True]
    rows = pa.array(texts, pa.large_string())
    long_mixed = secret_scan._has_long_mixed_token(rows)
    passed = pc.match_substring_regex(rows, pattern=prefilter).to_pylist()
    assert long_mixed.tolist() == expected
    assert all(passed[row] for row in range(len(texts)) if long_mixed[row])


def test_flags_refreshed_after_a_change_are_the_flags_found_afresh():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    before = pa.array([f"key {secret}", "disk full", "pwd: hunter2!", None, "HTTP5xxSpike on web-1"])
    after = pa.array([f"key {secret}", f"disk full, key {secret}", "pwd: [REDACTED:password]", None, "web-1"])
    [flags] = secret_scan.prefilter([before])
    assert (secret_scan.refreshed(flags, before, after) == secret_scan.prefilter([after])[0]).all()
    assert scan_columns([after], [secret_scan.refreshed(flags, before, after)]) == scan_columns([after])
    assert scan_columns([after], [flags]) != scan_columns([after])  # stale flags would miss the new token


def test_columns_scanned_together_keep_their_own_rows():
    secret = "the key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    columns = [pa.array(["clean", secret]), pa.nulls(3), pa.array([secret, "x", "pwd: hunter2!"], pa.large_string())]
    key, pwd = text_findings(secret), text_findings("pwd: hunter2!")
    assert key and pwd
    assert scan_columns(columns) == [{1: key}, {}, {0: key, 2: pwd}]


def test_only_rows_with_something_to_look_at_reach_the_python_scan(monkeypatch):
    looked_at = []

    def counting(text, *flags):
        looked_at.append(text)
        return text_findings(text, *flags)

    monkeypatch.setattr(secret_scan, "text_findings", counting)
    ordinary = ["[HTTP5xxSpike] worker-3 " + "9f86d081884c7d659a2feaa0c55ad015" * 3] * 500
    secret = "the key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    report = ScanReport()
    scan_batch([pa.array([*ordinary, secret], pa.large_string())], 1, report)
    assert looked_at == [secret] and report.counts == {"high_entropy": 1}


@pytest.mark.parametrize(
    "text, kind",
    [
        ("mysql -u root -pS3cretPass -h db", "command_line_credential"),
        ("redis-cli -h cache -a myRedisPass42 ping", "command_line_credential"),
        ("run --password Tr0ub4dor3x --yes", "command_line_credential"),
        ("sshpass -p 'Sup3r!pw' ssh ops@h", "command_line_credential"),
        ("curl -u admin:Adm1nPass! https://h", "command_line_credential"),
        ("PGPASSWORD=pgS3cret9 psql", "credential_assignment"),
        ("DB_PASS=dbpass123", "credential_assignment"),
        ("密碼：abc12345", "cjk_credential"),
        ("パスワード: pAss9word", "cjk_credential"),
        ("password：FullWidthPw88", "credential_assignment"),
        ("admin:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", "password_hash"),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe"),
        ("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "sendgrid"),
        ("kind: Secret\nstringData:\n  db-pass: P@ssw0rd!\n", "kubernetes_secret"),
    ],
)
def test_the_new_forms_are_found_by_the_scanners_own_rules(text, kind):
    assert kind in text_findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://[REDACTED:github_token]@github.com/acme/ops",
        "mysql -u root -p[REDACTED:password] and 密碼：[REDACTED:password]",
        '{"SecretAccessKey": [REDACTED:secret]} password：[REDACTED:password]',
        "kind: Secret\nstringData:\n  db-pass: [REDACTED:kubernetes_secret]\n",
        "TLS cert renewed, SHA256 fingerprint wJcQyMPx19pJgCzuVuHKhWKPrFe/sJYvKNhxHq9ZkM3",
    ],
)
def test_placeholders_and_named_digests_are_never_findings(text):
    assert text_findings(text) == []


def test_a_finding_names_its_line_and_evidence_never_the_value():
    report = ScanReport()
    column = pa.array(["fine", "db password: hunter2!x", "also fine"])
    scan_batch([column], 10, report, pa.array(["e-1", "e-2", "e-3"]))
    assert report.examples == ["line 11 (evidence e-2): credential_assignment"] and report.evidence_ids == ["e-2"]
    assert "hunter2" not in repr(report)
