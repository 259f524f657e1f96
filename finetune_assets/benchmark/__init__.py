"""The shipped benchmark: ``python -m finetune_assets.benchmark`` (see the README)."""
