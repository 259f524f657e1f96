"""The asset checks: the export files read back, and the audit rows read back."""
