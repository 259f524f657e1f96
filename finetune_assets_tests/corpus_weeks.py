"""Several weeks of templated incidents, registered through the real lineage, and the corpus built from them."""

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterInstance, materialize

from finetune_assets.dagster_defs.resources import CorpusPolicy, DatasetPolicy, ExportStorage
from finetune_assets.defs.assets.corpus import training_corpus
from finetune_assets.defs.checks.corpus_files import training_corpus_is_leak_free

from .seed import Week, at, local_storage, materialize_week, resources

CORPUS_ASSETS, CORPUS_CHECKS = [training_corpus], [training_corpus_is_leak_free]
# Weeks before and after seed.WEEK (2026-11-09), by their offset in days.
WEEKS = {"2026-10-26": -14, "2026-11-02": -7, "2026-11-09": 0, "2026-11-16": 7, "2026-11-23": 14}
DISK = (
    "[DiskPressure] node {host} reports disk usage of 93 percent on /var/lib/docker; the kubelet began evicting "
    "pods in the payments namespace because image garbage collection could not free enough space before the hard "
    "eviction threshold. The largest consumers are container logs and dangling images left by the nightly build "
    "job, and the same node ran out of inodes twice last month while the log shipper was paused for an upgrade. "
    "Rotating the logs and pruning the images freed 41 GB, the pods were rescheduled without data loss, and the "
    "image garbage collection thresholds were lowered so the kubelet starts cleaning before eviction begins."
)
KAFKA = (
    "[KafkaConsumerLag] consumer group orders-writer is 2.3 million messages behind on topic orders.v2 after a "
    "rebalance storm caused by a liveness probe that restarts consumers under load"
)


def stable_id(*parts: str) -> str:
    """The same evidence id for the same rows in any database: two builds can then be compared byte for byte."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


@dataclass
class Weeks:
    """Rows added week by week; ``ids[name]`` is the evidence id of the row added under that name."""

    url: str
    ids: dict = field(default_factory=dict)
    count: int = 0

    def add(self, week: str, name: str, summary: str, alertname: str = "DiskPressure", action: str = "rotate_logs"):
        rows = Week(self.url)
        self.count += 1
        incident = rows.incident(f"INC-{name}", {"alertname": alertname})
        when = at(days=WEEKS[week] + 1, hours=self.count % 20, minutes=self.count)
        self.ids[name] = rows.evidence(incident, summary, when, evidence_id=stable_id(week, name))
        rows.execution(incident, [{"action": action}], when, execution_id=stable_id(week, name, "execution"))
        rows.save()
        return self.ids[name]


def register_weeks(url: str, exports: Path, weeks: list[str], policy: DatasetPolicy | None = None, instance=None):
    for week in weeks:
        materialize_week(url, exports, week, instance=instance, policy=policy)


def build_corpus(url: str, exports: Path, policy: DatasetPolicy | None = None, corpus_policy=None, instance=None,
                 raise_on_error=True, run_config=None):  # fmt: skip
    given = resources(url, exports, policy)
    given["corpus_policy"] = corpus_policy or CorpusPolicy()
    given["export_storage"] = exports if isinstance(exports, ExportStorage) else local_storage(exports)
    return materialize(
        [*CORPUS_ASSETS, *CORPUS_CHECKS],
        resources=given,
        instance=instance or DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
        run_config=run_config,
    )
