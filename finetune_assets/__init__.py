"""finetune_assets: weekly LLM fine-tuning data from verified AIOps repairs, as Dagster assets.

Importing the package builds nothing. The code location is ``finetune_assets.definitions`` (``-m
finetune_assets.definitions``, ``workspace.yaml``, ``[tool.dagster]``); its assets, checks, jobs and
sensors are declared in the defs folder, ``finetune_assets/defs/``. ``finetune_assets.core`` and the
other lower layers import without Dagster.
"""
