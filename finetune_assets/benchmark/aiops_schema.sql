-- The AIOps source schema exactly as the platform defines it. The tests and the benchmark create it;
-- the pipeline never does.
CREATE TABLE incidents (id VARCHAR PRIMARY KEY, signal_labels JSONB);
CREATE TABLE incident_evidence (
    id UUID PRIMARY KEY, incident_id VARCHAR NOT NULL, verification_result VARCHAR,
    evidence_summary TEXT, collected_at TIMESTAMPTZ NOT NULL, schema_version VARCHAR,
    matched_playbook_id VARCHAR
);
CREATE TABLE agent_sessions (
    id UUID PRIMARY KEY, incident_id VARCHAR NOT NULL, agent_role VARCHAR NOT NULL,
    output_json JSONB, created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE auto_repair_executions (
    id UUID PRIMARY KEY, incident_id VARCHAR NOT NULL, playbook_name VARCHAR,
    executed_steps JSONB, success BOOLEAN NOT NULL, created_at TIMESTAMPTZ NOT NULL
);
