"""The split: by group, stable, the same in every week."""

import numpy as np
import pyarrow as pa
import pytest

from finetune_assets.core.splits import in_validation, split_column, validation_mask

GROUPS = [f"Alert{n}" for n in range(2000)]


def test_a_group_always_gets_the_same_side():
    column = pa.array(GROUPS * 3)
    mask = validation_mask(column, 0.1)
    by_group = {}
    for group, side in zip(column.to_pylist(), mask, strict=True):
        assert by_group.setdefault(group, side) == side
    assert np.array_equal(mask, validation_mask(column, 0.1))


def test_a_groups_side_does_not_depend_on_the_other_rows():
    alone = [validation_mask(pa.array([group]), 0.1)[0] for group in GROUPS[:200]]
    together = validation_mask(pa.array(list(reversed(GROUPS[:200]))), 0.1)[::-1]
    assert alone == list(together)


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.3])
def test_the_validation_share_of_groups_is_close_to_the_fraction(fraction):
    share = np.mean([in_validation(group, fraction) for group in GROUPS])
    assert abs(share - fraction) < 0.03


def test_the_extremes_put_everything_on_one_side():
    assert not validation_mask(pa.array(GROUPS), 0.0).any()
    assert validation_mask(pa.array(GROUPS), 1.0).all()


def test_split_keys_name_their_columns_and_reject_others():
    assert split_column("matched_playbook") == "matched_playbook_id"
    with pytest.raises(ValueError, match="alertname, incident_id, matched_playbook"):
        split_column("severity")
