"""The code location: every asset, check, job, schedule and resource, listed once, built by a function
when Dagster loads the location (nothing is built, and no variable read, when a module is imported)."""

import os
import warnings
from collections.abc import Mapping

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    AssetsDefinition,
    Definitions,
    PartitionsDefinition,
    PreviewWarning,
    definitions,
)

from .assets.corpus import corpus_assets, corpus_job, corpus_sensor
from .assets.export import export_assets
from .assets.extract import extract_assets
from .assets.sources import SOURCE_ASSETS
from .assets.transform import transform_assets
from .checks.corpus_files import corpus_checks
from .checks.export_files import export_file_checks
from .checks.registry_rows import registry_row_checks
from .checks.week_health import freshness_checks, freshness_sensor, week_health_checks
from .executor import build_executor
from .partitions import weekly_partitions
from .schedules import weekly_job, weekly_schedule
from .settings import Settings


def lineage(weeks: PartitionsDefinition) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The weekly assets in lineage order, and their checks."""
    assets = [*extract_assets(weeks), *transform_assets(weeks), *export_assets(weeks)]
    # Dagster 1.13 marks a partitions_def on an asset check as a preview (PreviewWarning, raised as the
    # checks are defined). The weekly checks need it, knowingly; a user should not see it every run.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=PreviewWarning, message="Specifying a partitions_def on an AssetCheckSpec"
        )
        checks = [export_file_checks(weeks), registry_row_checks(weeks), week_health_checks(weeks)]
    return assets, checks


def corpus() -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The corpus across weeks, and the checks on the weeks' health it relies on."""
    return corpus_assets(), [corpus_checks(), *freshness_checks(AssetKey("export_registry"))]


def build_definitions(environ: Mapping[str, str] = os.environ) -> Definitions:
    """Raises ``ConfigurationError``, naming every wrong setting, before anything is built."""
    settings = Settings.from_environment(environ)
    weeks = weekly_partitions(settings.partitions_start_date)
    assets, checks = lineage(weeks)
    corpus_assets_, corpus_checks_ = corpus()
    job, corpus_build_job = weekly_job(), corpus_job()
    fresh = corpus_checks_[1:]
    return Definitions(
        assets=[*SOURCE_ASSETS, *assets, *corpus_assets_],
        asset_checks=[*checks, *corpus_checks_],
        jobs=[job, corpus_build_job],
        schedules=[weekly_schedule(job, settings.schedule_running)],
        sensors=[corpus_sensor(corpus_build_job), freshness_sensor(fresh)],
        resources=settings.resources(),
        executor=build_executor(settings.executor),
    )


@definitions
def defs() -> Definitions:
    return build_definitions()
