"""The shipped benchmark: ``python -m finetune_assets.devtools.benchmark`` (see the README)."""
