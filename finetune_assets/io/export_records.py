"""The record of each export, shared on purpose between runs: what it wrote (the manifest), the
evidence ids its audit rows list, and what its checks found on which bytes (the verdict). The
checks and the registry read it whether they run in the export's own run or in a later one. No
source text is kept here: names, counts, hashes and ids.

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

    def latest(self, week: str) -> str | None:
        """The newest export recorded for the week, whichever run wrote it."""
        return max(self.exports(week), default=None)

    def remove_ids(self, week: str, export: str) -> None:
        """Once the audit rows hold the ids, their staged copy is no longer needed."""
        self.store.remove(self.ids_path(week, export))
