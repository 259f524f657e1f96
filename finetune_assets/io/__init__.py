"""Files: the store (a folder or a bucket), whole-or-nothing writes, the staged Parquet between steps,
the export writer and reader, and the manifest of what an export wrote. No Dagster, no database."""
