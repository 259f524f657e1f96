"""The documented CLI, run twice as a user (and the acceptance test) would, against PostgreSQL."""

import hashlib
import os
import subprocess
from pathlib import Path

from .seed import WEEK, Week, at, audit_rows, export_files, read_lines

COMMAND = ["dagster", "asset", "materialize", "-m", "finetune_assets", "--select", "successful_evidence*",
           "--partition", WEEK]


def test_cli_materializes_the_week_twice_with_two_files_and_two_audit_rows(postgres_server, postgres_url, tmp_path):
    week = Week(postgres_url)
    week.incident("INC-1", {"alertname": "DiskPressure"})
    first = week.evidence("INC-1", "磁碟 93%", at(days=1))
    week.execution("INC-1", [{"action": "rotate_logs"}], at(days=1))
    second = week.evidence("INC-2", "cpu 97%", at(days=2))
    week.session("INC-2", {"decision": "scale out"}, at(days=2))
    week.save()

    home, exports = tmp_path / "dagster_home", tmp_path / "exports"
    home.mkdir()
    env = {**os.environ, "AIOPS_DATABASE_URL": postgres_url, "FINETUNE_EXPORT_PATH": str(exports),
           "DAGSTER_HOME": str(home)}
    outputs = [subprocess.run(COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True) for _ in range(2)]
    for output in outputs:
        assert output.returncode == 0, output.stderr[-3000:]

    files = export_files(exports)
    assert len(files) == 2 and files[0].read_bytes() == files[1].read_bytes()
    assert [line["metadata"]["evidence_id"] for line in read_lines(files[0])] == [first, second]
    rows = audit_rows(postgres_url)
    assert len(rows) == 2
    for row in rows:
        data = Path(row["file_path"]).read_bytes()
        assert row["checksum_sha256"] == hashlib.sha256(data).hexdigest()
        assert row["size_bytes"] == len(data) and row["record_count"] == 2
        assert list(row["source_ids"]) == [first, second]

    secret = postgres_server.password.encode()
    assert all(secret not in (o.stdout + o.stderr).encode() for o in outputs)
    for path in home.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), f"password found in {path}"
