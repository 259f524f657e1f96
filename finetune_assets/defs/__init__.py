"""The code location's defs folder: every asset, check, job and sensor declared where it is written,
one module per lineage stage. Dagster finds them by walking this folder (``load_from_defs_folder``),
so a new module here (``dg scaffold defs dagster.asset assets/<name>.py``) joins the location without
touching another file. What depends on the environment (resources, executor, the schedule's status)
is added in ``finetune_assets/definitions.py``."""
