"""Writing a corpus version as per-week shards: each week's kept pairs of one format and side in one
file, ``<format>.<split>/<week>-<key>.jsonl``, named by what it holds (the input file's sha256, the
format, the side and which of its lines are kept). A shard the version before already holds under
the same name is linked into the new folder, not read or written again, so a week added writes that
week's shards only. The lines are the weekly files' own bytes (re-encoded only for other formats).
The card, dataset_info.json and manifest.json come last."""

import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core.corpus_card import CorpusInput, CorpusShard
from ..core.export_report import ALPACA_SCHEMA
from ..core.records import TrainerFile
from ..core.splits import SPLITS
from ..core.staged_tables import SOURCE_IDS
from .background import WriteBehind
from .export_reader import Reading, read_lines
from .staging import BatchFileWriter
from .store import Store
from .trainer_files import TrainerFileSet
from .week_signatures import ChangedExport

PREVIEW_ROWS = 5
# Bumped when the same selection of the same input would give other bytes: the shard names change.
SHARD_FORMAT = 1


@dataclass(frozen=True)
class WeekSelection:
    """One input file, and for each of its lines (in file order): kept or not, and its side."""

    path: str
    item: CorpusInput
    evidence_ids: Callable[[], pa.Array]  # read only when the week's shards are written, not linked
    keep: np.ndarray
    validation: np.ndarray


@dataclass(frozen=True)
class EarlierShard:
    """A shard of the version before, as its manifest row names it."""

    path: str  # in the store
    records: int
    size_bytes: int
    sha256: str
    registered_as: str  # the URL of the audit row that registered these bytes


@dataclass(frozen=True)
class CorpusFiles:
    shards: list[CorpusShard]
    preview: list[dict]


def shard_names(week: WeekSelection, formats: list[str]) -> dict[tuple[str, str], str]:
    """The name of each (format, side) shard of the week; a side with no kept line has none."""
    selection = hashlib.sha256(json.dumps([SHARD_FORMAT, week.item.sha256]).encode())
    selection.update(np.packbits(week.keep).tobytes())
    selection.update(np.packbits(week.validation[week.keep]).tobytes())
    has = {"train": bool((week.keep & ~week.validation).any()), "validation": bool((week.keep & week.validation).any())}
    names = {}
    for trainer_format in formats:
        for split in SPLITS:
            if has[split]:
                key = selection.copy()
                key.update(f"{trainer_format}/{split}".encode())
                names[trainer_format, split] = f"{trainer_format}.{split}/{week.item.week}-{key.hexdigest()[:16]}.jsonl"
    return names


def _linkable(exports: Store, earlier: EarlierShard | None) -> bool:
    return earlier is not None and exports.exists(earlier.path) and exports.size(earlier.path) == earlier.size_bytes


def write_corpus(
    exports: Store,
    folder: str,
    formats: list[str],
    weeks: list[WeekSelection],
    earlier: dict[str, EarlierShard],
    staging: Store,
    ids_folder: str,
    describe: Callable[[list[CorpusShard]], dict[str, str]],
) -> CorpusFiles:
    """``earlier``: the version before's shards by name; ``describe`` gets the shards and returns the
    texts (name -> text) written after them."""
    shards: list[CorpusShard] = []
    preview: list[dict] = []
    for week in weeks:
        names = shard_names(week, formats)
        if not names:
            continue
        if all(_linkable(exports, earlier.get(name)) for name in names.values()):
            for (trainer_format, split), name in names.items():
                previous, target = earlier[name], posixpath.join(folder, name)
                exports.link(previous.path, target)
                file = TrainerFile(target, exports.url(target), previous.records, previous.size_bytes,
                                   previous.sha256, trainer_format, split)  # fmt: skip
                shards.append(CorpusShard(week.item.week, name, file, previous.registered_as, None))
        else:
            ids_path = staging.path(ids_folder, f"{week.item.week}.parquet")
            files = _write_week(exports, folder, formats, week, names, staging, ids_path, preview)
            for file in files:
                name = names[file.trainer_format, file.split]
                shards.append(CorpusShard(week.item.week, name, file, None, ids_path))
    for name, text in describe(shards).items():
        exports.write_text(posixpath.join(folder, name), text)
    return CorpusFiles(shards, preview)


def _write_week(exports, folder, formats, week, names, staging, ids_path, preview) -> list[TrainerFile]:
    schema = None if list(formats) == ["alpaca"] else ALPACA_SCHEMA
    sides = sorted({split for _, split in names})
    trainer_files = TrainerFileSet(exports, folder, list(formats), lambda name, split: names[name, split], sides)
    evidence_ids = week.evidence_ids()
    with trainer_files, BatchFileWriter(staging, ids_path, SOURCE_IDS) as ids:
        # Innermost, so every write has finished before any file is committed or discarded.
        with WriteBehind() as behind:
            reading, position = Reading(), 0
            for lines, batch in read_lines(exports, week.path, schema, reading):
                rows = slice(position, position + len(lines))
                position += len(lines)
                keep = week.keep[rows]
                if not keep.any():
                    continue
                mask = pa.array(keep)
                chosen = lines if keep.all() else lines.filter(mask)
                chosen_batch = None if batch is None else batch.filter(mask)
                validation = week.validation[rows][keep]
                behind.submit(trainer_files.write, chosen_batch, chosen, validation)
                chosen_ids = evidence_ids.slice(rows.start, len(keep)).filter(mask)
                ids.write(pa.record_batch([chosen_ids, pa.array(validation)], schema=SOURCE_IDS))
                if len(preview) < PREVIEW_ROWS:
                    preview += [_preview(line) for line in chosen.slice(0, PREVIEW_ROWS - len(preview)).to_pylist()]
            if reading.sha256 != week.item.sha256 or position != len(week.keep):
                # When it changed is not known: after its registration, at the latest while it was read.
                raise ChangedExport(
                    f"{exports.url(week.path)} (audit row {week.item.audit_row_id} of week {week.item.week}) no "
                    f"longer holds the registered bytes: sha256 {reading.sha256}, registered {week.item.sha256}; "
                    "nothing is published"
                )
    return trainer_files.files()


def _preview(line: str) -> dict:
    record = json.loads(line)
    return {"evidence_id": record["metadata"]["evidence_id"], "input": record["input"], "output": record["output"]}
