"""The code location: what the defs folder declares, with the resources, the executor and the
schedule's status that the environment decides. Built when Dagster loads the location (nothing is
built, and no variable read, when a module is imported)."""

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from dagster import Definitions, definitions, load_from_defs_folder

from .dagster_defs.executor import build_executor
from .dagster_defs.schedules import weekly_schedule
from .dagster_defs.settings import Settings
from .defs.jobs import weekly_finetune_export


@cache
def declared() -> Definitions:
    """What the defs folder declares. Walked once per process: Dagster asks for the definitions several
    times while it loads and runs one job (seven times for a CLI run), and a walk costs about 0.4 s. A
    reload of the location starts a new process, which walks the folder again."""
    return load_from_defs_folder(path_within_project=Path(__file__).parent)


def build_definitions(environ: Mapping[str, str] = os.environ) -> Definitions:
    """Raises ``ConfigurationError``, naming every wrong setting, before anything is built."""
    settings = Settings.from_environment(environ)
    return Definitions.merge(
        declared(),
        Definitions(
            schedules=[weekly_schedule(weekly_finetune_export, settings.schedule_running)],
            resources=settings.resources(),
            executor=build_executor(settings.executor),
        ),
    )


@definitions
def defs() -> Definitions:
    return build_definitions()
