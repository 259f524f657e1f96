"""Signing the weeks a plan needs on both cores: every missing week signed once, earliest first, by the
worker process or by this one while it waits; a failure raised to the plan, wherever it happened."""

import os
import time

import pytest

from finetune_assets.core.corpus_card import CorpusInput
from finetune_assets.core.near_duplicates import Banding
from finetune_assets.io.store import Store
from finetune_assets.io.week_signatures import has_signatures, keep_signatures, signature_schema
from finetune_assets.io.week_signer import Signer

BANDING = Banding.for_threshold(0.85)


def _inputs(weeks: list[str]) -> list[CorpusInput]:
    return [
        CorpusInput(week, f"file:///{week}.jsonl", f"{n:064x}", 0, n, "incident_id", 0.1)
        for n, week in enumerate(weeks)
    ]


def _sign(exports, path, staging, item, banding):
    """Module level, so the worker can run it: records who signed the week, fails for week "bad"."""
    time.sleep(0.3)
    if item.week.startswith("bad"):
        raise ValueError(f"cannot sign {item.week} (audit row {item.audit_row_id})")
    staging.write_text(staging.path("who", item.week), str(os.getpid()))
    keep_signatures(staging, item, banding, signature_schema(banding.bands).empty_table())


def _signer(tmp_path, weeks, kept=()):
    staging = Store.from_url(str(tmp_path))
    inputs = _inputs(weeks)
    for week in kept:
        keep_signatures(staging, inputs[week], BANDING, signature_schema(BANDING.bands).empty_table())
    return staging, inputs, Signer(staging, [item.file_url for item in inputs], staging, inputs, BANDING, _sign)


def test_every_missing_week_is_signed_once_by_the_worker_or_while_waiting(tmp_path):
    weeks = [f"w{n}" for n in range(8)]
    staging, inputs, signer = _signer(tmp_path, weeks, kept=[2])  # an earlier build kept week 2's
    with signer:
        for week in range(len(weeks)):
            signer.ready(week)
            assert has_signatures(staging, inputs[week], BANDING)
    assert signer.signed_now == [week for week in weeks if week != "w2"]
    signers = {week: staging.read_text(staging.path("who", week)) for week in signer.signed_now}
    assert not staging.exists(staging.path("who", "w2"))
    # Both processes signed: the worker, and this one while the week it waited for was being signed.
    assert str(os.getpid()) in signers.values() and len(set(signers.values())) == 2


@pytest.mark.parametrize("bad", [0, 1, 5])
def test_a_week_that_fails_to_sign_fails_the_plan_wherever_it_was_signed(tmp_path, bad):
    weeks = [f"w{n}" for n in range(6)]
    weeks[bad] = f"bad{bad}"
    _, _, signer = _signer(tmp_path, weeks)
    began = time.monotonic()
    with pytest.raises(ValueError, match=rf"cannot sign bad{bad} \(audit row {bad}\)"), signer:
        for week in range(len(weeks)):
            signer.ready(week)
    # Leaving stopped the worker: no week after the failure went on being signed for long.
    assert time.monotonic() - began < 0.3 * len(weeks) + 10


def test_one_missing_week_is_signed_here_without_a_worker(tmp_path):
    staging, inputs, signer = _signer(tmp_path, ["w0"])
    with signer:
        signer.ready(0)
    assert staging.read_text(staging.path("who", "w0")) == str(os.getpid())
