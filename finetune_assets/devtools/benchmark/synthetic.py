"""A synthetic AIOps database of a given size, generated inside PostgreSQL with set-based SQL."""

import psycopg

from ...core.weeks import week_window
from ...db.schema import source_ddl

ALERTS = (
    "ARRAY['KubePodCrashLooping','HighCPUUsage','DiskPressure','PostgresReplicationLag','HTTP5xxSpike',"
    "'CertificateExpiring','KafkaConsumerLag','MemoryLeak']"
)

# One incident per evidence: incidents 1..n fall in the measured week, n+1..2n in the four weeks before.
# Summaries are about 500 bytes of mixed Chinese and English; one in fifty repeats an earlier one
# with the same repair, so the week has real duplicates; one in fifty carries a credential (a
# `mysql -p` password or a bearer token), so redaction's per-row path is measured too.
GENERATE = f"""
INSERT INTO incidents
SELECT 'INC-' || lpad(g::text, 9, '0'),
       jsonb_build_object('alertname', ({ALERTS})[1 + g % 8],
                          'severity', CASE WHEN g % 3 = 0 THEN 'warning' ELSE 'critical' END)
FROM generate_series(1, 2 * %(n)s::bigint) AS g;

INSERT INTO incident_evidence
SELECT md5('evidence' || g)::uuid,
       'INC-' || lpad(g::text, 9, '0'),
       'success',
       '[' || ({ALERTS})[1 + k % 8] || '] 節點 worker-' || k % 97 || ' 發生告警，Pod payments-api-' || k % 1013
           || ' restarted ' || k % 17 || ' times; ' || repeat(md5(k::text) || ' 記憶體使用率升高 ', 8)
           || CASE g % 100 WHEN 7 THEN ' 已執行 mysql -h db-' || k % 7 || ' -u app -p' || left(md5('pw' || g), 16)
                           WHEN 57 THEN ' curl -H "Authorization: Bearer ' || md5('tk' || g) || md5('tk' || k) || '"'
                           ELSE '' END,
       CASE WHEN g <= %(n)s THEN %(week_start)s::timestamptz + (g - 1) * (604799.0 / %(n)s) * interval '1 second'
            ELSE %(week_start)s::timestamptz - (1 + g % 4) * interval '7 days' + (g % 604799) * interval '1 second' END,
       'v1',
       'pb-' || k % 23
FROM (SELECT g, CASE WHEN g % 50 = 0 THEN g - 1 ELSE g END AS k FROM generate_series(1, 2 * %(n)s::bigint) AS g) AS s;

INSERT INTO agent_sessions
SELECT md5('session' || g || '-' || turn)::uuid,
       'INC-' || lpad(g::text, 9, '0'),
       CASE WHEN turn = 2 THEN 'diagnoser' ELSE 'coordinator' END,
       jsonb_build_object(
           'reasoning', '根因分析：' || ({ALERTS})[1 + k % 8] || ' 與最近一次部署相關，'
                        || repeat('memory limit too low; ', 6) || turn,
           'decision', 'restart_pod',
           'confidence', 0.87),
       %(week_start)s::timestamptz + (g % 604799) * interval '1 second' + turn * interval '1 minute'
FROM (SELECT g, CASE WHEN g % 50 = 0 THEN g - 1 ELSE g END AS k FROM generate_series(1, 2 * %(n)s::bigint) AS g) AS s,
     generate_series(0, 2) AS turn;

INSERT INTO auto_repair_executions
SELECT md5('execution' || g || '-' || attempt)::uuid,
       'INC-' || lpad(g::text, 9, '0'),
       'pb-restart-' || k % 11,
       jsonb_build_array(
           jsonb_build_object('action', 'kubectl rollout restart deploy/payments-api-' || k % 1013, 'timeout', 60),
           jsonb_build_object('action', 'verify')),
       k % 7 <> 0,
       %(week_start)s::timestamptz + (g % 604799) * interval '1 second' + attempt * interval '2 minutes'
FROM (SELECT g, CASE WHEN g % 50 = 0 THEN g - 1 ELSE g END AS k FROM generate_series(1, 2 * %(n)s::bigint) AS g) AS s,
     generate_series(0, 1) AS attempt;

CREATE INDEX ON incident_evidence (collected_at);
CREATE INDEX ON incident_evidence (incident_id);
CREATE INDEX ON agent_sessions (incident_id);
CREATE INDEX ON auto_repair_executions (incident_id);
ANALYZE;
"""


def generate(dsn: str, n: int, week: str) -> None:
    """Creates the source tables and fills them: n successful evidences in ``week``, n in other weeks."""
    week_start, _ = week_window(week)
    # Client-side binding lets one call carry the several statements above.
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as connection:
        connection.execute(source_ddl())
        # Modulo is written ' % ' in the SQL above; psycopg wants it doubled beside placeholders.
        connection.execute(GENERATE.replace(" % ", " %% "), {"n": n, "week_start": week_start})
