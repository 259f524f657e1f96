"""A corpus version: what it is built from, its id, the counts per week, and its dataset card."""

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from .arrays import distinct
from .corpus_plan import EXACT_DUPLICATE, KEPT, NEAR_DUPLICATE, WITHHELD, CorpusPlan
from .dataset_card import LLAMA_FACTORY_FORMATS, lines_of
from .records import TrainerFile
from .splits import SPLITS

# Bumped when the same inputs and policy would give other bytes: the id then changes too.
CORPUS_FORMAT = 3


@dataclass(frozen=True)
class CorpusShard:
    """One week's kept pairs of one format and side, a file in a version folder."""

    week: str
    name: str  # within the version folder: ``<format>.<split>/<week>-<key>.jsonl``
    file: TrainerFile
    registered_as: str | None  # the URL of the audit row of these bytes, when an earlier version wrote them
    ids_path: str | None = None  # for a shard written now: its week's staged evidence ids and sides

    @property
    def written_now(self) -> bool:
        return self.registered_as is None


def split_folder(trainer_format: str, split: str) -> str:
    return f"{trainer_format}.{split}"


@dataclass(frozen=True)
class CorpusInput:
    """A registered weekly snapshot the corpus reads, as its audit row names it."""

    week: str
    file_url: str
    sha256: str
    records: int
    audit_row_id: int
    split_key: str
    validation_fraction: float


@dataclass(frozen=True)
class CorpusRules:
    """The rules a corpus version is built by, as its id and its card record them."""

    near_duplicate_threshold: float = 0.85
    cluster_keep: int = 3  # 0: near duplicates are not looked for
    formats: tuple[str, ...] = ("alpaca",)
    weeks: int | None = None  # the last N registered weeks; None: all of them

    def as_dict(self) -> dict:
        return {**asdict(self), "formats": list(self.formats)}


def version_id(inputs: list[CorpusInput], policy: dict, predecessor: str | None) -> str:
    """Named by the input files (by content), the policy and the version whose sides it keeps: the same
    three give the same id and the same bytes, and a paper or a model card can cite it."""
    payload = {
        "format": CORPUS_FORMAT,
        "inputs": sorted([item.week, item.sha256] for item in inputs),
        "policy": policy,
        "predecessor": predecessor,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
    return f"corpus-{digest[:16]}"


@dataclass(frozen=True)
class WeekCounts:
    week: str
    pairs_in: int
    exact_duplicates: int
    near_duplicates: int
    withheld: int
    kept: int
    train: int
    validation: int
    clusters: int  # near-duplicate clusters with a pair of this week (kept or removed)


def week_counts(plan: CorpusPlan, week_starts: np.ndarray, weeks: list[str]) -> list[WeekCounts]:
    """``week_starts``: the first row of each week and, last, the row count (a week's rows are contiguous)."""
    counts = []
    for index, week in enumerate(weeks):
        rows = slice(int(week_starts[index]), int(week_starts[index + 1]))
        outcome, validation, clusters = plan.outcome[rows], plan.validation[rows], plan.cluster[rows]
        kept = outcome == KEPT
        counts.append(
            WeekCounts(
                week,
                len(outcome),
                int((outcome == EXACT_DUPLICATE).sum()),
                int((outcome == NEAR_DUPLICATE).sum()),
                int((outcome == WITHHELD).sum()),
                int(kept.sum()),
                int((kept & ~validation).sum()),
                int((kept & validation).sum()),
                len(distinct(clusters[clusters >= 0])),
            )
        )
    return counts


def _sides(shards: list[CorpusShard]) -> list[tuple[str, str]]:
    present = {(shard.file.trainer_format, shard.file.split) for shard in shards}
    formats = list(dict.fromkeys(shard.file.trainer_format for shard in shards))
    return [(name, split) for name in formats for split in SPLITS if (name, split) in present]


def dataset_info(version: str, shards: list[CorpusShard]) -> str:
    """LLaMA-Factory: one dataset per format and side, its folder of shards (LLaMA-Factory reads every
    file of a folder it is given)."""
    entries = {
        f"aiops_{version.replace('-', '_')}_{name}_{split}": {
            "file_name": split_folder(name, split),
            **LLAMA_FACTORY_FORMATS[name],
        }
        for name, split in _sides(shards)
    }
    return json.dumps(entries, ensure_ascii=False, indent=2) + "\n"


def manifest(version: str, predecessor: str | None, inputs: list[CorpusInput], shards: list[CorpusShard]) -> str:
    """manifest.json: every shard of the version by name, with its lines and sha256. By content only,
    like the card: the same version has the same manifest wherever it is built."""
    return (
        json.dumps(
            {
                "version": version,
                "predecessor": predecessor,
                "inputs": [{"week": i.week, "records": i.records, "sha256": i.sha256} for i in inputs],
                "shards": [
                    {
                        "path": shard.name,
                        "week": shard.week,
                        "format": shard.file.trainer_format,
                        "split": shard.file.split,
                        "records": shard.file.records,
                        "sha256": shard.file.sha256,
                    }
                    for shard in shards
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )


def _front_matter(shards: list[CorpusShard]) -> list[str]:
    """Hugging Face `datasets` reads the configs: `load_dataset(<this folder>, "<format>")` loads every
    shard of each side, in week order."""
    lines = ["---", "configs:"]
    for name in dict.fromkeys(shard.file.trainer_format for shard in shards):
        lines += [f"- config_name: {name}", "  data_files:"]
        sides = [split for format_name, split in _sides(shards) if format_name == name]
        lines += [f"  - split: {split}\n    path: {split_folder(name, split)}/*.jsonl" for split in sides]
    return [*lines, "---", ""]


def _shards_section(shards: list[CorpusShard]) -> list[str]:
    rows = [
        f"| `{s.name}` | {s.week} | {s.file.trainer_format} | {s.file.split} | {s.file.records} | `{s.file.sha256}` "
        f"| {'written' if s.written_now else 'linked'} |"
        for s in shards
    ]
    return [
        "## Files",
        "",
        "Each week's kept pairs of one format and side are one shard; a shard the version before already held "
        "is linked here, not written again. `manifest.json` lists them too.",
        "",
        "| file | week | format | split | lines | sha256 | in this version |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]


def corpus_card(
    version: str,
    inputs: list[CorpusInput],
    policy: CorpusRules,
    banding: dict,
    predecessor: str | None,
    counts: list[WeekCounts],
    clusters: int,
    shards: list[CorpusShard],
) -> str:
    week_rows = [
        f"| {c.week} | {c.pairs_in} | {c.exact_duplicates} | {c.near_duplicates} | {c.withheld} | {c.kept} "
        f"| {c.train} | {c.validation} | {c.clusters} |"
        for c in counts
    ]
    total = {name: sum(getattr(c, name) for c in counts) for name in ("pairs_in", "kept", "train", "validation")}
    # By content only (no path, no row id): the same inputs give the same card wherever it is built.
    input_rows = [f"| {i.week} | {i.records} | `{i.sha256}` |" for i in inputs]
    near = (
        f"two pairs are near duplicates when the Jaccard similarity of their {banding['shingle_width']}-token "
        f"shingles (of input + output, numbers, ids, addresses and times made one placeholder, CJK characters one "
        f"token each) is at least {policy.near_duplicate_threshold}, computed exactly for the candidates that "
        f"MinHash ({banding['num_perm']} permutations) and LSH ({banding['bands']} bands x {banding['rows']} rows) "
        f"propose. A pair is removed when {policy.cluster_keep} kept earlier pair(s) are each its near duplicate; "
        "a cluster is a kept pair and the pairs removed as its near duplicates, so every member is a near "
        "duplicate of the cluster's first pair"
        if policy.cluster_keep
        else "off (exact duplicates only)"
    )
    return "\n".join(
        [
            *_front_matter(shards),
            f"# AIOps fine-tuning corpus `{version}`",
            "",
            "Verified-successful incident repairs from every registered weekly export below, deduplicated",
            "across weeks. Cite this version by its id: the same input files and policy give the same id and bytes.",
            "",
            f"- Weeks: {len(inputs)} ({inputs[0].week} to {inputs[-1].week})" if inputs else "- Weeks: none",
            f"- Pairs in: {total['pairs_in']}; kept: {total['kept']} (train {lines_of(total['train'])}, "
            f"validation {lines_of(total['validation'])}); near-duplicate clusters: {clusters}",
            "- Exact duplicates (same input and output): the earliest is kept",
            f"- Near duplicates: {near}",
            "- Split: pairs linked by exact or near duplicates (through chains too) lie wholly on one side, that "
            "of their earliest pair's week file, so no validation pair has a near duplicate in train; a pair keeps "
            f"the side it had in the version before (`{predecessor or 'none'}`); a new pair that would join a train "
            "group to a validation one is withheld",
            f"- Formats: {', '.join(policy.formats)}",
            "",
            "## Weeks",
            "",
            "| week | pairs in | exact duplicates removed | near duplicates removed | withheld | kept | train "
            "| validation | clusters with a pair of this week |",
            "|---|---|---|---|---|---|---|---|---|",
            *week_rows,
            "",
            "## Input files",
            "",
            "The registered weekly snapshots read (their audit rows list this version's files' paths).",
            "",
            "| week | lines | sha256 |",
            "|---|---|---|",
            *input_rows,
            "",
            *_shards_section(shards),
            "",
        ]
    )
