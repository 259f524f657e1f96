"""The redactor: each kind of secret becomes a typed placeholder, the text around it stays."""

from collections import Counter

import pyarrow as pa
import pytest

from finetune_assets.core.redaction import RedactionPatternError, Redactor

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nq83Nn0R3xk=\n-----END RSA PRIVATE KEY-----"

# (text, secret that must disappear, expected result, type counted)
CASES = [
    ("db password=hunter2 on db-1", "hunter2", "db password=[REDACTED:password] on db-1", "password"),
    ("DB_PASSWORD: 'pa ss'", "pa ss", "DB_PASSWORD: [REDACTED:password]", "password"),
    ('{"passwd": "s3cr3t!", "user": "ops"}', "s3cr3t!", '{"passwd": [REDACTED:password], "user": "ops"}', "password"),
    ("pwd=abc123 next", "abc123", "pwd=[REDACTED:password] next", "password"),
    ("client_secret=9f8e7d6c", "9f8e7d6c", "client_secret=[REDACTED:secret]", "secret"),
    ("secret: topsecretvalue", "topsecretvalue", "secret: [REDACTED:secret]", "secret"),
    ("refresh_token=r-123-abc", "r-123-abc", "refresh_token=[REDACTED:token]", "token"),
    ("api_key=AbC123xyz; retry", "AbC123xyz", "api_key=[REDACTED:api_key]; retry", "api_key"),
    ("apikey: k-999", "k-999", "apikey: [REDACTED:api_key]", "api_key"),
    (
        '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"}',
        "wJalrXUtnFEMI/K7MDENG",
        '{"SecretAccessKey": [REDACTED:secret]}',
        "secret",
    ),
    ("dbPassword=hunter2;", "hunter2", "dbPassword=[REDACTED:password];", "password"),
    ("access_key=AK-local-1", "AK-local-1", "access_key=[REDACTED:api_key]", "api_key"),
    (
        "postgres://admin:S3cret@db.internal:5432/aiops",
        "S3cret",
        "postgres://admin:[REDACTED:url_credentials]@db.internal:5432/aiops",
        "url_credentials",
    ),
    ("redis://:topsecret@cache:6379", "topsecret", "redis://:[REDACTED:url_credentials]@cache:6379", "url_credentials"),
    (
        "Authorization: Bearer abc.def-ghi",
        "abc.def-ghi",
        "Authorization: Bearer [REDACTED:authorization]",
        "authorization",
    ),
    (
        "-H 'Authorization: Basic dXNlcjpwYXNz'",
        "dXNlcjpwYXNz",
        "-H 'Authorization: Basic [REDACTED:authorization]'",
        "authorization",
    ),
    ("sent bearer 0a1b2c3d4e5f", "0a1b2c3d4e5f", "sent bearer [REDACTED:bearer_token]", "bearer_token"),
    (f"cookie {JWT} end", JWT, "cookie [REDACTED:jwt] end", "jwt"),
    (
        "key AKIAIOSFODNN7EXAMPLE used",
        "AKIAIOSFODNN7EXAMPLE",
        "key [REDACTED:aws_access_key_id] used",
        "aws_access_key_id",
    ),
    (
        f"aws_secret_access_key={AWS_SECRET}",
        AWS_SECRET,
        "aws_secret_access_key=[REDACTED:aws_secret_access_key]",
        "aws_secret_access_key",
    ),
    ("clone with ghp_" + "A1b2" * 9, "ghp_" + "A1b2" * 9, "clone with [REDACTED:github_token]", "github_token"),
    (
        "glpat-abcdefghij0123456789 leaked",
        "glpat-abcdefghij0123456789",
        "[REDACTED:gitlab_token] leaked",
        "gitlab_token",
    ),
    ("xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF", "[REDACTED:slack_token]", "slack_token"),
    (
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "[REDACTED:openai_api_key]",
        "openai_api_key",
    ),
    (
        f"key:\n{PEM}\nafter the key",
        "MIIEowIBAAKCAQEA7bq",
        "key:\n[REDACTED:private_key]\nafter the key",
        "private_key",
    ),
    ("page oncall-lead@example.com now", "oncall-lead@example.com", "page [REDACTED:email] now", "email"),
]


@pytest.mark.parametrize("text, secret, expected, kind", CASES, ids=[case[3] + str(i) for i, case in enumerate(CASES)])
def test_each_secret_becomes_a_typed_placeholder(text, secret, expected, kind):
    counts = Counter()
    redacted = Redactor().redact(text, counts)
    assert redacted == expected
    assert secret not in redacted
    assert counts[kind] >= 1


def test_a_truncated_private_key_is_redacted_to_the_end():
    assert Redactor().redact("dump: -----BEGIN PRIVATE KEY-----\nMIIabc") == "dump: [REDACTED:private_key]"


@pytest.mark.parametrize(
    "text",
    [
        "Pod payments-api OOMKilled on 10.0.3.7 (node worker-3.prod.example.com)",
        "http://grafana:3000/d/abc?orgId=1",
        "the password was reset by the operator",
        "bypass: true; tokens: 4096; passwordless: true",
        "disk 93% at 12:30:45",
        "根據告警，重啟 payments-api",
    ],
)
def test_ordinary_incident_text_is_left_alone(text):
    counts = Counter()
    assert Redactor().redact(text, counts) == text
    assert not counts


def test_redaction_is_idempotent_placeholders_are_not_redacted_again():
    redactor = Redactor()
    once = redactor.redact(" ".join(case[0] for case in CASES))
    counts = Counter()
    assert redactor.redact(once, counts) == once
    assert not counts


def test_addresses_and_host_names_can_be_masked_too():
    text = "10.0.3.7 and fe80::1:2 on worker-3.prod.example.com at 12:30:45"
    counts = Counter()
    masked = Redactor(mask_network=True).redact(text, counts)
    assert masked == "[REDACTED:ip_address] and [REDACTED:ip_address] on [REDACTED:hostname] at 12:30:45"
    assert counts == {"ip_address": 2, "hostname": 1}


def test_extra_patterns_come_from_configuration():
    redactor = Redactor({"employee_id": r"(emp-id: )E\d{6}", "ticket": r"TCK-\d+"})
    counts = Counter()
    assert redactor.redact("emp-id: E123456 opened TCK-42", counts) == (
        "emp-id: [REDACTED:employee_id] opened [REDACTED:ticket]"
    )
    assert counts == {"employee_id": 1, "ticket": 1}


def test_an_invalid_extra_pattern_fails_with_its_type_named():
    with pytest.raises(RedactionPatternError, match="'broken'.*RE2"):
        Redactor({"broken": "(unclosed"})


def test_a_column_keeps_nulls_and_untouched_rows():
    column = pa.array(["clean", None, "password=x1"], pa.large_string())
    counts = Counter()
    assert Redactor().redact_column(column, counts).to_pylist() == ["clean", None, "password=[REDACTED:password]"]
    assert counts == {"password": 1}
