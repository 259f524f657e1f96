"""How a run's steps execute: each in a process of its own, forked from a server that has already
imported what every step needs; or, on Kubernetes, each in a Job of its own."""

from dagster import ExecutorDefinition, multiprocess_executor

# The step processes fork from a server holding these, so a step starts in a fraction of a second.
# Beside the code location itself, they are what every step process would otherwise import on its
# own (measured with PYTHONPROFILEIMPORTTIME): the step launcher's CLI helpers, the instance storage
# and psycopg. Not pandas, which Arrow's Parquet writer loads in four steps: held by the server too,
# it would add its ~70 MB to the run's peak memory for 0.15 s a step. A test imports each one, so a
# Dagster upgrade that renames one fails loudly instead of slowing every step.
PRELOADED_MODULES = (
    "finetune_assets.dagster_defs.definitions",
    "dagster._cli",
    "dagster._core.storage.base_storage",
    "psycopg",
)
EXECUTORS = ("multiprocess", "k8s")


def build_executor(kind: str = "multiprocess") -> ExecutorDefinition:
    """``k8s`` runs each step in a Kubernetes Job of its own (dagster-k8s must be installed, and the
    export path must be an object store every pod can reach)."""
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured({"max_concurrent": 4})
    return multiprocess_executor.configured(
        {"max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": list(PRELOADED_MODULES)}}}
    )
