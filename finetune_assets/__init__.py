"""finetune_assets: weekly LLM fine-tuning data from verified AIOps repairs, as Dagster assets.

Importing the package builds nothing. Dagster finds the code location's ``defs`` here (``-m
finetune_assets``); it is looked up only when asked for, so ``finetune_assets.core`` and the other
layers import without Dagster.
"""


def __getattr__(name: str):
    if name == "defs":
        from .dagster_defs.definitions import defs

        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return ["defs"]
