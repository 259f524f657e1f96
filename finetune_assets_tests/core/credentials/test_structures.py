"""Secrets a structure places: URL user information and query keys, ``.pgpass`` lines, Kubernetes
Secrets in YAML and JSON."""

import json
import time

import pytest

from finetune_assets.core.credentials.structures import kubernetes_findings, url_findings
from finetune_assets.core.credentials.text_view import TextView
from finetune_assets.core.redaction import Redactor
from finetune_assets.core.secret_scan import text_findings

from .forms import SECRET, Form, check, kept

S = SECRET
K8S_JSON = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": "WGs5I21RMiZ2TDc=", "user": "YWRtaW4xMjM="},
    }
)
FORMS = [
    Form("url password with / @ # ?", "postgres://app:pa/ss@w#rd?x@db.internal:5432/orders", "pa/ss@w#rd?x"),
    Form("url password in a sentence", f"DSN postgresql://orders:{S}@pg-primary.prod:5432/orders refused"),
    Form("url password, no user", "redis://:Rd7-Secret-99@cache:6379/0", "Rd7-Secret-99"),
    Form("url query key", "https://maps.googleapis.com/api?key=AbCdEf123456&x=1", "AbCdEf123456"),
    Form("url query token", "GET /v1/export?access_token=Qz8Wx7Ec6Rv5Tb4&page=2", "Qz8Wx7Ec6Rv5Tb4"),
    Form("pgpass line", f"db.internal:5432:orders:app:{S}"),
    Form("pgpass with wildcards", "*:*:*:replicator:Rep1-Pass-2026", "Rep1-Pass-2026"),
    Form("kubernetes secret as json", K8S_JSON, "WGs5I21RMiZ2TDc="),
    Form("kubernetes secret as json, second key", K8S_JSON, "YWRtaW4xMjM="),
    Form(
        "kubernetes secret as yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: WGs5I21RMiZ2TDc=\n",
        "WGs5I21RMiZ2TDc=",
    ),
    Form(
        "kubernetes stringData, a plain word",
        "kind: Secret\nstringData:\n  db-user: orders\n  api-key: Kz7Ab9Cd1Ef3\n",
        "Kz7Ab9Cd1Ef3",
    ),
    Form(
        "kubernetes secret after another document",
        "kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n---\nkind: Secret\ndata:\n  token: dG9rZW4tOTk5OQ==\n",
        "dG9rZW4tOTk5OQ==",
    ),
]


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_a_structured_secret_goes_whole_and_the_scanner_sees_it_alone(form):
    check(form)


@pytest.mark.parametrize(
    "text",
    [
        "http://grafana:3000/d/abc?orgId=1",
        "see https://docs.example.com/a@b/page for the runbook",
        "user@host:~$ df -h",
        "2026-11-09 12:30:45 worker-3:5432:orders:app: connection reset",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: debug\n",
        '{"kind": "ConfigMap", "data": {"LOG_LEVEL": "debug"}}',
    ],
)
def test_structures_without_a_secret_stay(text):
    kept(text)


def test_a_url_keeps_its_user_and_host_around_the_placeholder():
    redacted = Redactor().redact("postgres://app:pa/ss@w#rd?x@db.internal:5432/orders")
    assert redacted == "postgres://app:[REDACTED:url_credentials]@db.internal:5432/orders"
    spans = list(url_findings(TextView.of("ftp://u:p4ss-w0rd@files:21/x")))
    assert [(f.start, f.end) for f in spans] == [(8, 17)]


def test_every_value_of_a_secret_object_is_found_and_none_of_its_metadata():
    view = TextView.of(K8S_JSON)
    values = sorted(K8S_JSON[f.start : f.end] for f in kubernetes_findings(view))
    assert values == ["WGs5I21RMiZ2TDc=", "YWRtaW4xMjM="]


def test_four_thousand_lines_of_a_secret_are_read_in_linear_time():
    """Not a speed target (the bound is generous): a quadratic reading takes minutes here."""
    lines = "".join(f"  key-{n}: {n:04d}VmFsdWUtc2VjcmV0LTEyMzQ=\n" for n in range(4000))
    text = f"apiVersion: v1\nkind: Secret\ndata:\n{lines}"
    started = time.perf_counter()
    redacted = Redactor().redact(text)
    found = text_findings(text)
    assert text_findings(redacted) == []
    elapsed = time.perf_counter() - started
    assert "VmFsdWUtc2VjcmV0" not in redacted and redacted.count("[REDACTED:") == 4000
    assert len(found) >= 4000 and "kubernetes_secret" in found  # every value flagged
    assert elapsed < 20, f"{elapsed:.1f} s"
