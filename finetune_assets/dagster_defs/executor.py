"""How a run's steps execute: one after another in the run's own process (the default), each in a
process of its own forked from a server that has already imported what every step needs, or each
in a Kubernetes Job of its own."""

from dagster import ExecutorDefinition, in_process_executor, multiprocess_executor

# The step processes fork from a server holding these, so a step starts in a fraction of a second.
# Beside the code location itself, they are what every step process would otherwise import on its
# own (measured with PYTHONPROFILEIMPORTTIME): the step launcher's CLI helpers, the instance storage,
# psycopg, and detect-secrets' plugins. Importing them does no work of ours: the redaction rules are
# compiled by the first step of a run's process that redacts or scans (about 0.25 s). A test imports
# each one, so a Dagster upgrade that renames one fails loudly instead of slowing every step.
PRELOADED_MODULES = (
    "finetune_assets.definitions",
    "detect_secrets.core.plugins.util",
    "dagster._cli",
    "dagster._core.storage.base_storage",
    "psycopg",
)
# In process by default: the lineage is a chain (only the two source extracts could overlap, and on
# PostgreSQL each already uses the parallel workers), so separate processes gained nothing at a
# million rows and cost every run about three seconds of start-up (docs/benchmark.md).
EXECUTORS = ("in_process", "multiprocess", "k8s")


def build_executor(kind: str = "in_process") -> ExecutorDefinition:
    """``multiprocess`` isolates each step in a process of its own; ``k8s`` runs each step in a
    Kubernetes Job of its own (dagster-k8s must be installed, and the export path must be an object
    store every pod can reach)."""
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured({"max_concurrent": 4})
    if kind == "multiprocess":
        return multiprocess_executor.configured(
            {"max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": list(PRELOADED_MODULES)}}}
        )
    return in_process_executor
