"""The AIOps database: its schema (once), the weekly queries, streaming their rows, the audit rows in
finetune_exports, connections with clear errors, and the demo data. No Dagster."""
