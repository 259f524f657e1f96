"""The assets, one module per lineage stage: sources, extract, transform, export."""
