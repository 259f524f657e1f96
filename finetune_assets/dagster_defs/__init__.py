"""The Dagster wiring: definitions, resources, partitions, the schedule, the executor, the assets and
their checks, and what the catalog shows."""
