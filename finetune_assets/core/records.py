"""The typed records steps hand each other, each with one JSON form: the counts of a week's pairs, a
written file, a trainer file, and the manifest of an export."""

import json
import posixpath
from collections import Counter
from dataclasses import asdict, dataclass, field, fields


@dataclass
class PairStats:
    """What became of a week's selected evidence; redactions are counted per type, never shown.
    ``withheld`` names each pair held back because the scanner still found something after redaction:
    its evidence id and the kinds found, never the text."""

    selected: int = 0
    skipped_no_output: int = 0
    duplicates: int = 0
    exported: int = 0
    redactions: Counter = field(default_factory=Counter)
    withheld: list[dict] = field(default_factory=list)

    def withhold(self, evidence_id: str, kinds: list[str]) -> None:
        self.withheld.append({"evidence_id": evidence_id, "findings": sorted(set(kinds))})

    @property
    def quarantined(self) -> int:
        return len(self.withheld)

    def withheld_share(self) -> float:
        """Withheld pairs among the pairs that had an output (what would have been exported)."""
        candidates = self.selected - self.skipped_no_output
        return self.quarantined / candidates if candidates else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "redactions": dict(sorted(self.redactions.items()))}

    @classmethod
    def from_dict(cls, values: dict) -> "PairStats":
        return cls(
            **{**values, "redactions": Counter(values.get("redactions", {})), "withheld": values.get("withheld", [])}
        )

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> "PairStats":
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class WrittenFile:
    path: str  # within its store
    url: str  # as the audit row and people name it
    records: int
    size_bytes: int
    sha256: str

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass(frozen=True)
class TrainerFile(WrittenFile):
    trainer_format: str = ""
    split: str = ""

    @property
    def export_type(self) -> str:
        return f"{self.trainer_format}_{self.split}"


def _from_dict(cls, values: dict):
    names = {item.name for item in fields(cls)}
    return cls(**{name: value for name, value in values.items() if name in names})


MANIFEST_VERSION = 2


@dataclass(frozen=True)
class ExportManifest:
    """What ``jsonl_export`` wrote for a week, for the checks and the registry, which may run in other
    processes or on other hosts. ``snapshot`` is None for a week without pairs."""

    export: str  # the export's name: the snapshot's file name without .jsonl
    partition_key: str
    window_start: str
    window_end: str
    run_id: str
    stats: PairStats
    split_key: str
    validation_fraction: float
    formats: tuple[str, ...]
    source_ids_path: str
    snapshot: WrittenFile | None = None
    trainer_files: tuple[TrainerFile, ...] = ()
    version: int = MANIFEST_VERSION

    @property
    def files(self) -> list[WrittenFile]:
        """The snapshot and every trainer file, as written; none for a week without pairs."""
        return [] if self.snapshot is None else [self.snapshot, *self.trainer_files]

    def as_dict(self) -> dict:
        return {**asdict(self), "stats": self.stats.as_dict()}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "ExportManifest":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, values: dict) -> "ExportManifest":
        if values.get("version") != MANIFEST_VERSION:
            raise ValueError(f"export manifest version {values.get('version')!r}; this code reads {MANIFEST_VERSION}")
        snapshot = values["snapshot"]
        return cls(
            **{
                **values,
                "stats": PairStats.from_dict(values["stats"]),
                "formats": tuple(values["formats"]),
                "snapshot": None if snapshot is None else _from_dict(WrittenFile, snapshot),
                "trainer_files": tuple(_from_dict(TrainerFile, item) for item in values["trainer_files"]),
            }
        )


VERDICT_VERSION = 1


@dataclass(frozen=True)
class CheckVerdict:
    """What the checks found on an export, and on which bytes: the sha256 of each file as they read it.
    The registry registers an export only if every blocking check passed on exactly those bytes."""

    export: str
    run_id: str
    passed: dict[str, bool]
    blocking: tuple[str, ...]
    sha256: dict[str, str]  # file name -> sha256 of the bytes the checks read
    version: int = VERDICT_VERSION

    @property
    def failed_blocking(self) -> list[str]:
        return [name for name in self.blocking if not self.passed.get(name, False)]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "CheckVerdict":
        values = json.loads(text)
        if values.get("version") != VERDICT_VERSION:
            raise ValueError(f"check verdict version {values.get('version')!r}; this code reads {VERDICT_VERSION}")
        return cls(**{**values, "blocking": tuple(values["blocking"])})
