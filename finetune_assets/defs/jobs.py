"""The weekly job: the whole lineage of one week, as the schedule and a backfill run it."""

from dagster import AssetSelection, define_asset_job

from .assets.export import EXPORT_GROUP
from .assets.extract import EXTRACT_GROUP
from .assets.transform import TRANSFORM_GROUP

# Partitioned as its assets are: weekly.
weekly_finetune_export = define_asset_job(
    "weekly_finetune_export",
    selection=AssetSelection.groups(EXTRACT_GROUP, TRANSFORM_GROUP, EXPORT_GROUP),
    description="Extract the week's verified repairs, build training pairs, write the JSONL and its audit row.",
)
