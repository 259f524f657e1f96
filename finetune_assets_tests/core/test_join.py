"""Joining a week's rows into pairs in bounded memory, by incident, batch by batch."""

from finetune_assets.core.digests import Digests
from finetune_assets.core.join import assemble_pairs, decision_lookup, joined_batches, repair_lookup
from finetune_assets.core.records import PairStats
from finetune_assets.core.redaction import Redactor

from ..batches import decisions_batch, evidence_batch, repairs_batch


def test_sorted_lookup_hands_out_rows_up_to_an_incident_and_keeps_that_one():
    batches = [decisions_batch([("INC-1", "a"), ("INC-3", "c")]), decisions_batch([("INC-5", "e"), ("INC-7", "g")])]
    lookup = decision_lookup(batches)

    def through(last):
        found = lookup.through(last)
        return dict(zip(found.column("incident_id").to_pylist(), found.column("reasoning").to_pylist(), strict=True))

    assert through("INC-0") == {}
    assert through("INC-4") == {"INC-1": "a", "INC-3": "c"}
    assert through("INC-5") == {"INC-5": "e"}
    assert through("INC-5") == {"INC-5": "e"}  # its evidence may go on in the next batch
    assert through("INC-9") == {"INC-5": "e", "INC-7": "g"}
    assert through("INC-9") == {}


def test_an_incident_whose_evidence_spans_two_batches_keeps_its_decision_in_both():
    evidence = [
        evidence_batch([(1, "e1", "INC-1", "a"), (2, "e2", "INC-2", "b")]),
        evidence_batch([(3, "e3", "INC-2", "c"), (4, "e4", "INC-3", "d")]),
    ]
    decisions = decision_lookup([decisions_batch([("INC-1", "r1"), ("INC-2", "r2"), ("INC-3", "r3")])])
    stats = PairStats()
    joined = joined_batches(evidence, decisions, repair_lookup([]), Redactor())
    out = list(assemble_pairs(joined, stats, Digests.empty(), Redactor()))
    outputs = {
        e: o
        for b in out
        for e, o in zip(b.column("evidence_id").to_pylist(), b.column("output").to_pylist(), strict=True)
    }
    assert outputs == {"e1": "[AI 決策]\nr1", "e2": "[AI 決策]\nr2", "e3": "[AI 決策]\nr2", "e4": "[AI 決策]\nr3"}
    assert stats.skipped_no_output == 0


def test_assemble_joins_by_incident_counts_and_collects_digests():
    evidence = [
        evidence_batch([(3, "e3", "INC-1", " cpu "), (1, "e1", "INC-2", "disk")]),
        evidence_batch([(2, "e2", "INC-3", "cpu")]),
    ]
    stats, digests = PairStats(), Digests.empty()
    decisions = decision_lookup([decisions_batch([("INC-2", None)])])
    repairs = repair_lookup([repairs_batch(["INC-1"]), repairs_batch(["INC-3"])])
    out = list(assemble_pairs(joined_batches(evidence, decisions, repairs, Redactor()), stats, digests, Redactor()))
    assert stats.selected == 3 and stats.skipped_no_output == 1
    assert [b.column("evidence_id").to_pylist() for b in out] == [["e3"], ["e2"]]
    assert out[0].column("input").to_pylist() == ["cpu"]
    assert digests.keep_mask().tolist() == [False, False, False, True]
