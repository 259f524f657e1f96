"""The dataset card (README.md) and LLaMA-Factory's dataset_info.json for one export."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from .records import TrainerFile

# LLaMA-Factory's description of each format's columns (its data/README.md).
LLAMA_FACTORY_FORMATS = {
    "alpaca": {"columns": {"prompt": "instruction", "query": "input", "response": "output"}},
    "openai_chat": {
        "formatting": "sharegpt",
        "columns": {"messages": "messages"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
            "system_tag": "system",
        },
    },
    "sharegpt": {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"}},
}


@dataclass(frozen=True)
class ExportSummary:
    week: str
    window_start: str
    window_end: str
    snapshot_name: str  # the week's snapshot, beside the folder: named for provenance, never as a path
    snapshot_records: int
    snapshot_sha256: str
    stats: dict
    split_key: str
    validation_fraction: float
    formats: list[str]
    files: list[TrainerFile]


def dataset_name(week: str, suffix: str) -> str:
    return f"aiops_finetune_{week.replace('-', '')}_{suffix}"


def dataset_info(summary: ExportSummary) -> dict:
    return llama_factory_entries(lambda file: dataset_name(summary.week, file.export_type), summary.files)


def llama_factory_entries(name_of: Callable[[TrainerFile], str], files: list[TrainerFile]) -> dict:
    """dataset_info.json: one entry per file in this folder, so the folder works wherever it is copied."""
    return {name_of(file): {"file_name": file.name, **LLAMA_FACTORY_FORMATS[file.trainer_format]} for file in files}


def front_matter(formats: list[str], files: list[TrainerFile]) -> list[str]:
    """Hugging Face `datasets` reads the configs, so `load_dataset(<this folder>, "<format>")` works."""
    lines = ["---", "configs:"]
    for trainer_format in formats:
        chosen = [file for file in files if file.trainer_format == trainer_format]
        if not chosen:
            continue
        lines += [f"- config_name: {trainer_format}", "  data_files:"]
        lines += [f"  - split: {file.split}\n    path: {file.name}" for file in chosen]
    return [*lines, "---", ""]


def files_section(files: list[TrainerFile]) -> list[str]:
    """The card's table of its files, each with its sha256."""
    rows = [f"| `{f.name}` | {f.trainer_format} | {f.split} | {f.records} | `{f.sha256}` |" for f in files]
    return ["## Files", "", "| file | format | split | lines | sha256 |", "|---|---|---|---|---|", *rows]


def dataset_card(summary: ExportSummary) -> str:
    stats = summary.stats
    redactions = stats.get("redactions", {})
    redaction_lines = [f"| {kind} | {count} |" for kind, count in sorted(redactions.items())] or ["| (none) | 0 |"]
    split_counts = {split: 0 for split in ("train", "validation")}
    for file in summary.files:
        if file.trainer_format == summary.formats[0]:
            split_counts[file.split] = file.records
    return "\n".join(
        [
            *front_matter(summary.formats, summary.files),
            f"# AIOps fine-tuning data, week {summary.week}",
            "",
            "Verified-successful incident repairs as supervised fine-tuning pairs (instruction, input = the",
            "evidence summary, output = the coordinator's reasoning and the executed repair).",
            "",
            f"- Source query window: `collected_at` in [{summary.window_start}, {summary.window_end})",
            f"- Evidence selected: {stats['selected']}; "
            f"skipped (no reasoning, no repair): {stats['skipped_no_output']};"
            f" withheld (the scanner found something after redaction): {len(stats.get('withheld', []))};"
            f" duplicates collapsed: {stats['duplicates']}; exported: {stats['exported']}",
            f"- Split: by `{summary.split_key}`, {summary.validation_fraction:.0%} of groups to validation "
            f"(train {lines_of(split_counts['train'])}, validation {lines_of(split_counts['validation'])}); "
            "a group is never on both sides and keeps its side in every week",
            f"- Formats: {', '.join(summary.formats)}",
            f"- Split from the week's snapshot of {summary.snapshot_records} lines, sha256 `{summary.snapshot_sha256}`",
            "",
            *files_section(summary.files),
            "",
            "## Redactions",
            "",
            "Secrets were replaced with `[REDACTED:<type>]` before anything was written: every value in a",
            "credential position, and each such value wherever else it appears in the same incident.",
            "",
            "| type | replaced |",
            "|---|---|",
            *redaction_lines,
            "",
        ]
    )


def lines_of(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def dataset_info_json(summary: ExportSummary) -> str:
    return json.dumps(dataset_info(summary), ensure_ascii=False, indent=2) + "\n"
