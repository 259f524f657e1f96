"""Pure rules: the training-pair rules, redaction, the secret scan, the split, the line formats and the
dataset card. No Dagster, no database, no files: everything here takes values and returns values."""
