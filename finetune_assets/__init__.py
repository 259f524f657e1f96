"""finetune_assets: weekly LLM fine-tuning data from verified AIOps repairs, as Dagster assets."""

from .definitions import defs

__all__ = ["defs"]
