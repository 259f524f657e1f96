"""Building a corpus version from the registered weeks: read what is registered, sign each week once,
plan, write the version folder (each week's shards, linked from the version before when unchanged),
and register the new shards and the version's manifest in one transaction."""

import hashlib
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from dagster import Failure

from ..core.arrays import distinct
from ..core.corpus_card import (
    CORPUS_FORMAT,
    CorpusInput,
    CorpusRules,
    CorpusShard,
    WeekCounts,
    corpus_card,
    dataset_info,
    manifest,
    version_id,
    week_counts,
)
from ..core.digests import EXACT_DIGEST
from ..core.near_duplicates import Banding
from ..db.connection import Database
from ..db.corpus_registry import (
    MANIFEST_TYPE,
    CorpusRecord,
    corpus_export_type,
    latest_corpus,
    latest_version,
    one_build_at_a_time,
    registered_inputs,
    registered_versions,
)
from ..db.registry import AuditRow, record_exports
from ..io.corpus_writer import EarlierShard, WeekSelection, write_corpus
from ..io.kept_sets import piece_name, pieces_folder
from ..io.plan_store import plan_description, plan_folder, save_plan
from ..io.store import Store
from .corpus_planning import carried_plan, plan_weeks

CORPUS_FOLDER = "corpus"
MANIFEST_NAME = "manifest.json"
# A writer writes continuously: where builds cannot take exclusive turns, what has not changed for
# this long belongs to a build that stopped.
QUIET_SECONDS = 600


@dataclass(frozen=True)
class CorpusBuild:
    version: str | None  # None: no registered week yet
    folder_url: str | None = None
    created: bool = False  # False: the latest version already covers these inputs and this policy
    predecessor: str | None = None
    inputs: list[CorpusInput] = field(default_factory=list)
    counts: list[WeekCounts] = field(default_factory=list)
    clusters: int = 0
    shards: list[CorpusShard] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    signed_now: list[str] = field(default_factory=list)  # weeks whose signatures this build computed
    planned_now: int = 0  # weeks this build planned; the others' plan came from the version before
    audit_row_ids: list[int] = field(default_factory=list)
    elsewhere: list[int] = field(default_factory=list)  # audit rows left out: their files are in another store


class Clock:
    """Seconds since the last lap: each phase's time goes to the run's log."""

    def __init__(self):
        self._last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        return seconds


def policy_record(policy: CorpusRules, banding: Banding | None) -> dict:
    return {**policy.as_dict(), "banding": banding.as_dict() if banding else None}


def _input_path(exports: Store, item: CorpusInput) -> str:
    path = exports.path_of(item.file_url)  # never None: registered_inputs kept only this store's files
    if not exports.exists(path):
        raise Failure(
            f"audit row {item.audit_row_id} (week {item.week}) names {item.file_url}, which is missing: restore it, "
            "or export the week again, before the corpus is built",
            allow_retries=False,
        )
    return path


def build_corpus(
    database: Database,
    exports: Store,
    staging: Store,
    policy: CorpusRules,
    run_id: str,
    log: Callable[[str], None],
) -> CorpusBuild:
    with one_build_at_a_time(database) as exclusive:
        return _build(database, exports, staging, policy, run_id, log, exclusive)


def _build(
    database: Database,
    exports: Store,
    staging: Store,
    policy: CorpusRules,
    run_id: str,
    log: Callable[[str], None],
    exclusive: bool,
) -> CorpusBuild:
    swept = _sweep_dead_builds(database, exports, staging, run_id, exclusive)
    if swept:
        log(f"removed what builds that stopped part-way left: {', '.join(swept)}")
    registered = registered_inputs(database, policy.weeks, lambda url: exports.path_of(url) is not None)
    inputs, elsewhere = registered.inputs, registered.elsewhere
    if elsewhere:
        log(
            f"left out {len(elsewhere)} audit row(s) naming files outside FINETUNE_EXPORT_PATH "
            f"({exports.url(exports.root)}), exported under another export path: ids {elsewhere}"
        )
    if not inputs:
        return CorpusBuild(None, elsewhere=elsewhere)
    banding = Banding.for_threshold(policy.near_duplicate_threshold) if policy.cluster_keep else None
    policy_dict = policy_record(policy, banding)
    inputs_digest = version_id(inputs, policy_dict, None)
    predecessor = latest_corpus(database)
    if predecessor is not None and predecessor.inputs_digest == inputs_digest:
        folder = exports.path(CORPUS_FOLDER, predecessor.version)
        return CorpusBuild(predecessor.version, exports.url(folder), created=False, inputs=inputs, elsewhere=elsewhere)
    version = version_id(inputs, policy_dict, predecessor.version if predecessor else None)
    folder = exports.path(CORPUS_FOLDER, version)
    paths = [_input_path(exports, item) for item in inputs]

    clock = Clock()
    # A kept plan holds the exact keys of its weeks: one made with another digest is planned again.
    plan_key = {"policy": policy_dict, "corpus_format": CORPUS_FORMAT, "exact": EXACT_DIGEST}
    carried = carried_plan(staging, predecessor, inputs, plan_key)
    planned = plan_weeks(database, exports, paths, staging, inputs, policy.cluster_keep if banding else 0, banding,
                         predecessor, carried, version)  # fmt: skip
    del carried  # superseded: its index and arrays leave memory
    plan, starts, signed_now = planned.plan, planned.starts, planned.signed_now
    counts = week_counts(plan, starts, [item.week for item in inputs])
    clusters = len(distinct(plan.cluster[plan.cluster >= 0]))
    planned_now = len(inputs) - planned.carried_weeks
    scope = (
        f"{planned_now} week(s) added to the plan of {predecessor.version}"
        if planned_now < len(inputs)
        else f"every week ({len(inputs)})"
    )
    log(
        f"planned {scope} in {clock.lap():.2f} s, {len(signed_now)} signed now: {plan.candidates:,} "
        f"candidate near-duplicate pairs, {plan.verified:,} of them at Jaccard >= {policy.near_duplicate_threshold}"
    )

    try:
        # Kept before the files are written, so the plan's index and state leave memory first.
        save_plan(staging, version, plan_key, planned.stored)
        log(f"kept the plan for the next version in {clock.lap():.2f} s")
    except BaseException:
        staging.remove_tree(plan_folder(staging, version))
        raise
    evidence_ids, plan = planned.evidence_ids, replace(plan, state=None)
    del planned

    selections = [
        WeekSelection(
            paths[i],
            item,
            partial(evidence_ids, i),
            plan.kept[starts[i] : starts[i + 1]],
            plan.validation[starts[i] : starts[i + 1]],
        )
        for i, item in enumerate(inputs)
    ]
    predecessor_version = predecessor.version if predecessor else None
    texts: dict[str, str] = {}

    def describe(shards: list[CorpusShard]) -> dict[str, str]:
        card = corpus_card(version, inputs, policy, banding.as_dict() if banding else {}, predecessor_version,
                           counts, clusters, shards)  # fmt: skip
        texts.update(
            {
                "README.md": card,
                "dataset_info.json": dataset_info(version, shards),
                MANIFEST_NAME: manifest(version, predecessor_version, inputs, shards),
            }
        )
        return texts

    run_folder = staging.path(CORPUS_FOLDER, "runs", run_id)
    ids_folder = posixpath.join(run_folder, version)
    try:
        try:
            earlier = _earlier_shards(exports, predecessor)
            written = write_corpus(exports, folder, list(policy.formats), selections, earlier, staging, ids_folder,
                                   describe)  # fmt: skip
        except OSError as error:
            raise OSError(error.errno, f"writing corpus {version} to {exports.url(folder)}: {error}") from error
        new = sum(shard.written_now for shard in written.shards)
        log(f"wrote {new} shard(s) and linked {len(written.shards) - new} in {clock.lap():.2f} s")
        common = {
            "corpus_version": version,
            "inputs_digest": inputs_digest,
            "predecessor": predecessor_version,
            "primary_format": policy_dict["formats"][0],
            "run_id": run_id,
            "folder": exports.url(folder),
        }
        rows = [_shard_row(staging, shard, common) for shard in written.shards if shard.written_now]
        rows.append(_manifest_row(exports, folder, texts[MANIFEST_NAME], written.shards, inputs, policy_dict, common))
        recorded = record_exports(database, rows)
        log(f"registered {len(rows)} audit row(s) in {clock.lap():.2f} s")
    except BaseException:
        # Unregistered, the folder is no version: it goes (a build stopped by kill -9 leaves it to the
        # next build's sweep), and a retry writes it whole.
        exports.remove_tree(folder)
        staging.remove_tree(plan_folder(staging, version))
        raise
    finally:
        staging.remove_tree(run_folder)  # the run's own folder too: an empty one would wait for the next sweep
    return CorpusBuild(
        version,
        exports.url(folder),
        created=True,
        predecessor=predecessor_version,
        inputs=inputs,
        counts=counts,
        clusters=clusters,
        shards=written.shards,
        preview=written.preview,
        signed_now=signed_now,
        planned_now=planned_now,
        audit_row_ids=[row_id for _, row_id, _ in recorded],
        elsewhere=elsewhere,
    )


def _sweep_dead_builds(database: Database, exports: Store, staging: Store, run_id: str, exclusive: bool) -> list[str]:
    """Removes the version folders no audit row names, other builds' staged files, the plans of all but
    the latest version and partial signature files. Builds take turns
    (``one_build_at_a_time``), so while this one holds the turn no other is writing: whatever an
    unregistered folder holds (hidden partial files, nothing at all) was left by a build that stopped.
    Without an exclusive turn (the SQLite demo) only what has not changed for a while is swept."""
    registered = registered_versions(database)
    quiet = 0 if exclusive else QUIET_SECONDS

    def dead_in(store: Store, folder: str) -> bool:
        return time.time() - store.modified(folder) >= quiet

    dead = [
        (exports, folder)
        for folder in exports.folders(exports.path(CORPUS_FOLDER))
        if posixpath.basename(folder) not in registered and dead_in(exports, folder)
    ]
    dead += [
        (staging, folder)
        for folder in staging.folders(staging.path(CORPUS_FOLDER, "runs"))
        if posixpath.basename(folder) != run_id and dead_in(staging, folder)
    ]
    # Only the latest version's plan is extended, and only the kept sets it names are read.
    latest = latest_version(database)
    dead += [
        (staging, folder)
        for folder in staging.folders(staging.path(CORPUS_FOLDER, "plans"))
        if posixpath.basename(folder) != latest and dead_in(staging, folder)
    ]
    description = plan_description(staging, latest) if latest else None
    named = set(description["pieces"]) if description else set()
    dead += [
        (staging, path)
        for path in staging.files(pieces_folder(staging))
        if piece_name(path) not in named and dead_in(staging, path)
    ]
    for store, folder in dead:
        store.remove_tree(folder)
    # A signer killed part-way leaves its partial file beside the signatures; no other build is signing.
    partials = staging.sweep_partials(staging.path(CORPUS_FOLDER, "signatures"), older_than_seconds=quiet)
    return [store.url(folder) for store, folder in dead] + partials


def _earlier_shards(exports: Store, predecessor: CorpusRecord | None) -> dict[str, EarlierShard]:
    """The version before's shards by name, where they lie in this store."""
    folder = exports.path_of(predecessor.folder_url) if predecessor else None
    if folder is None:
        return {}
    return {
        shard["path"]: EarlierShard(
            posixpath.join(folder, shard["path"]),
            shard["records"],
            shard["size_bytes"],
            shard["sha256"],
            shard["registered_as"],
        )
        for shard in predecessor.shards
    }


def _shard_row(staging: Store, shard: CorpusShard, common: dict) -> AuditRow:
    file = shard.file
    metadata = {**common, "week": shard.week, "format": file.trainer_format, "split": file.split, "shard": shard.name}
    return AuditRow(staging, shard.ids_path, file.url, file.records, file.size_bytes, file.sha256, metadata,
                    export_type=corpus_export_type(file.trainer_format, file.split), split=file.split)  # fmt: skip


def _manifest_row(exports, folder, text, shards, inputs, policy_dict, common) -> AuditRow:
    """The version's row: every shard it holds, by name and by the URL of the row that registered its
    bytes (its own for a shard written now), so the next version links them and a check finds them."""
    entries = [
        {
            "path": shard.name,
            "week": shard.week,
            "format": shard.file.trainer_format,
            "split": shard.file.split,
            "records": shard.file.records,
            "size_bytes": shard.file.size_bytes,
            "sha256": shard.file.sha256,
            "registered_as": shard.registered_as or shard.file.url,
        }
        for shard in shards
    ]
    metadata = {
        **common,
        "weeks": [item.week for item in inputs],
        "input_audit_row_ids": [item.audit_row_id for item in inputs],
        "policy": policy_dict,
        "shards": entries,
    }
    data = text.encode("utf-8")
    path = posixpath.join(folder, MANIFEST_NAME)
    records = sum(shard.file.records for shard in shards if shard.file.trainer_format == common["primary_format"])
    return AuditRow(None, None, exports.url(path), records, len(data), hashlib.sha256(data).hexdigest(), metadata,
                    export_type=MANIFEST_TYPE)  # fmt: skip
