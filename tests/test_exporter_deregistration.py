"""Deregistration bookkeeping: evidence rules and the persisted state file."""

from __future__ import annotations

import json

import pytest

from exporters.deregistration import DeregistrationTracker, StateFileError

HK = "5CCfhMF7r1gcfqhSrAzjULNggFpEzWMguA4nsxkMeTVdZAJU"
WATCHED = [(HK, "config")]


def test_a_read_older_than_the_last_one_is_not_evidence_of_a_deregistration():
    t = DeregistrationTracker(None)
    t.observe(1, 100, {HK: (3, 50)}, WATCHED)
    # A lagging endpoint at block 98 does not list the hotkey: ignored.
    assert t.observe(1, 98, {}, WATCHED) == []
    assert t.count(1, HK) == 0
    [gone] = t.observe(1, 101, {}, WATCHED)
    assert (gone.kind, gone.previous_uid, t.count(1, HK)) == ("deregistered", 3, 1)


def test_a_later_registration_block_between_two_polls_counts_as_a_deregistration():
    t = DeregistrationTracker(None)
    t.observe(1, 100, {HK: (3, 50)}, WATCHED)
    [again] = t.observe(1, 110, {HK: (7, 105)}, WATCHED)
    assert (again.kind, again.uid, t.count(1, HK)) == ("reregistered", 7, 1)
    assert t.observe(1, 111, {HK: (7, 105)}, WATCHED) == []


def test_a_chain_far_behind_the_saved_block_is_taken_as_a_new_chain(tmp_path):
    path = tmp_path / "state.json"
    t = DeregistrationTracker(path, rewind_blocks=100)
    t.observe(1, 5000, {HK: (3, 50)}, WATCHED)
    t.save()
    t2 = DeregistrationTracker(path, rewind_blocks=100)
    assert not t2.accepts(1, 4950)  # a node a little behind: not evidence
    assert t2.accepts(1, 20)  # a restarted devnet/simnet: numbering starts again
    [gone] = t2.observe(1, 20, {}, WATCHED)
    assert gone.kind == "deregistered"


def test_the_state_file_is_replaced_atomically_and_only_when_something_changed(tmp_path):
    path = tmp_path / "sub" / "state.json"
    t = DeregistrationTracker(path)
    t.observe(1, 100, {HK: (3, 50)}, WATCHED)
    assert t.save() is True
    assert t.save() is False
    data = json.loads(path.read_text())
    assert data["neurons"][f"1:{HK}"]["registered"] is True
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp files left


def test_a_corrupt_state_file_is_refused_with_the_file_and_the_fix(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(
        StateFileError, match=r"state.json: state file is not valid .* move it aside"
    ):
        DeregistrationTracker(path)
