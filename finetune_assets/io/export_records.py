"""The record of each export in the staging store, shared on purpose between runs, for what the
Dagster instance cannot hold: what its checks found on which bytes (the verdict, which a publish in a
later run needs and Dagster's blocking checks only give within their own run), the evidence ids its
audit rows list, and a copy of its manifest, by which a later export sweeps the files of an export
whose step failed after writing (the instance records no materialization for it). The checks and the
registry read the manifest from the materialization. No source text is kept here: names, counts,
hashes and ids.

``exports/<week>/<export>/``, where ``<export>`` is the snapshot's name without ``.jsonl``
(``finetune-<week>-<UTC time>-<run>``), so names sort by the time they were written.
"""

from dataclasses import dataclass

from ..core.records import CheckVerdict, ExportManifest
from .store import Store


@dataclass(frozen=True)
class ExportRecords:
    store: Store

    def folder(self, week: str, export: str) -> str:
        return self.store.path("exports", week, export)

    def ids_path(self, week: str, export: str) -> str:
        return self.store.path("exports", week, export, "ids.parquet")

    def _manifest_path(self, week: str, export: str) -> str:
        return self.store.path("exports", week, export, "manifest.json")

    def _verdict_path(self, week: str, export: str) -> str:
        return self.store.path("exports", week, export, "checks.json")

    def write_manifest(self, manifest: ExportManifest) -> None:
        self.store.write_text(self._manifest_path(manifest.partition_key, manifest.export), manifest.to_json())

    def has_manifest(self, week: str, export: str) -> bool:
        return self.store.exists(self._manifest_path(week, export))

    def read_manifest(self, week: str, export: str) -> ExportManifest:
        path = self._manifest_path(week, export)
        if not self.store.exists(path):
            raise FileNotFoundError(f"export {export} of week {week} has no record at {self.store.url(path)}")
        return ExportManifest.from_json(self.store.read_text(path))

    def write_verdict(self, week: str, verdict: CheckVerdict) -> None:
        # Checks may run again on the same export (alone, or re-executed): the last verdict holds.
        self.store.write_text(self._verdict_path(week, verdict.export), verdict.to_json(), replace=True)

    def read_verdict(self, week: str, export: str) -> CheckVerdict | None:
        path = self._verdict_path(week, export)
        return CheckVerdict.from_json(self.store.read_text(path)) if self.store.exists(path) else None

    def exports(self, week: str) -> list[str]:
        """The week's exports recorded, oldest first."""
        return [folder.rsplit("/", 1)[-1] for folder in self.store.folders(self.store.path("exports", week))]

    def remove_ids(self, week: str, export: str) -> None:
        """Once the audit rows hold the ids, their staged copy is no longer needed."""
        self.store.remove(self.ids_path(week, export))
