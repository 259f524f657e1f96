"""A version's kept plan: written whole (plan.json last) and read back as it was; a folder of another
format, or cut short, is no plan."""

import json
import posixpath

import numpy as np
import pytest

from finetune_assets.core.corpus_plan import NO_PRIOR, plan_corpus
from finetune_assets.core.near_pass import NearDuplicates
from finetune_assets.io.kept_sets import KeptSets
from finetune_assets.io.plan_store import StoredPlan, load_plan, plan_description, plan_folder, save_plan
from finetune_assets.io.store import Store


def _stored(staging: Store) -> StoredPlan:
    exact = np.array([b"a", b"b", b"a", b"c"], dtype="S4")
    bands = np.array([[1, 2], [1, 3], [1, 2], [4, 3]], dtype=np.uint64)
    near = NearDuplicates(lambda lo, hi: bands[lo:hi], lambda a, b, enough: np.ones(len(a), dtype=bool), [0, 2])
    plan = plan_corpus(exact, np.array([False, True, False, True]), np.full(4, NO_PRIOR, np.int8), 1, near)
    kept = KeptSets(staging, "v1")
    kept.add("2026-11-02", np.array([0]), np.array([0, 2]), np.array([5, 9], dtype=np.uint32))
    return StoredPlan(plan, [["2026-11-02", "a" * 64], ["2026-11-09", "b" * 64]], [0, 2, 4], kept.pieces)


def test_a_saved_plan_reads_back_as_it_was(tmp_path):
    staging = Store.from_url(str(tmp_path))
    stored = _stored(staging)
    save_plan(staging, "v1", {"policy": 1}, stored)
    description = plan_description(staging, "v1")
    assert description["key"] == {"policy": 1} and description["pieces"] == ["v1-2026-11-02"]
    loaded = load_plan(staging, "v1", description)
    for name in ("outcome", "validation", "cluster"):
        assert getattr(loaded.plan, name).tolist() == getattr(stored.plan, name).tolist()
    for name in ("weekly", "group", "exact_keys", "exact_first", "exact_open"):
        assert getattr(loaded.plan.state, name).tolist() == getattr(stored.plan.state, name).tolist()
    assert [k.tolist() for k in loaded.plan.state.index.keys] == [k.tolist() for k in stored.plan.state.index.keys]
    assert [r.tolist() for r in loaded.plan.state.index.rows] == [r.tolist() for r in stored.plan.state.index.rows]
    [piece] = loaded.pieces
    assert piece.rows.tolist() == [0] and piece.values().tolist() == [5, 9]
    assert (loaded.inputs, loaded.starts) == (stored.inputs, stored.starts)


def test_a_folder_without_its_description_or_of_another_format_is_no_plan(tmp_path):
    staging = Store.from_url(str(tmp_path))
    assert plan_description(staging, "v1") is None
    save_plan(staging, "v1", {"policy": 1}, _stored(staging))
    path = posixpath.join(plan_folder(staging, "v1"), "plan.json")
    description = json.loads(staging.read_text(path))
    staging.write_text(path, json.dumps({**description, "format": description["format"] + 1}), replace=True)
    assert plan_description(staging, "v1") is None


def test_an_index_cut_short_is_named(tmp_path):
    staging = Store.from_url(str(tmp_path))
    save_plan(staging, "v1", {"policy": 1}, _stored(staging))
    index = tmp_path / "corpus" / "plans" / "v1" / "index_rows.npy"
    index.write_bytes(index.read_bytes()[:-4])
    with pytest.raises(ValueError, match="index_rows.npy ends before its"):
        load_plan(staging, "v1", plan_description(staging, "v1"))
