"""Deregistration bookkeeping: evidence rules and the persisted state file."""

from __future__ import annotations

import json

import pytest

from exporters.deregistration import (
    CHANGED,
    LAGGING,
    REWOUND,
    TRUSTED,
    AgentState,
    Anchor,
    StateFileError,
    judge_chain,
)

HK = "5CCfhMF7r1gcfqhSrAzjULNggFpEzWMguA4nsxkMeTVdZAJU"
WATCHED = [(HK, "config")]


def test_a_read_older_than_the_last_one_is_not_evidence_of_a_deregistration():
    t = AgentState(None)
    t.observe(1, 100, {HK: (3, 50)}, WATCHED)
    # A lagging endpoint at block 98 does not list the hotkey: ignored.
    assert t.observe(1, 98, {}, WATCHED) == []
    assert t.count(1, HK) == 0
    [gone] = t.observe(1, 101, {}, WATCHED)
    assert (gone.kind, gone.previous_uid, t.count(1, HK)) == ("deregistered", 3, 1)


def test_a_later_registration_block_between_two_polls_counts_as_a_deregistration():
    t = AgentState(None)
    t.observe(1, 100, {HK: (3, 50)}, WATCHED)
    [again] = t.observe(1, 110, {HK: (7, 105)}, WATCHED)
    assert (again.kind, again.uid, t.count(1, HK)) == ("reregistered", 7, 1)
    assert t.observe(1, 111, {HK: (7, 105)}, WATCHED) == []


def test_a_saved_block_far_ahead_of_a_new_read_is_never_taken_as_a_fresh_start(tmp_path):
    path = tmp_path / "state.json"
    t = AgentState(path)
    t.observe(1, 5000, {HK: (3, 50)}, WATCHED)
    t.save()
    t2 = AgentState(path)
    assert not t2.accepts(1, 4950)  # a node a little behind: not evidence
    assert not t2.accepts(1, 20)  # a restarted chain: not evidence either
    assert t2.observe(1, 20, {}, WATCHED) == []
    assert t2.count(1, HK) == 0


ANCHOR = Anchor("0xgenesis", 500, "0xhash500")


def test_an_endpoint_at_or_past_the_anchor_with_the_same_hash_there_is_trusted():
    judged = judge_chain(ANCHOR, 510, "0xgenesis", "0xhash500", lag_blocks=100)
    assert judged == TRUSTED
    assert judge_chain(None, 3, "0xanything", None, lag_blocks=100) == TRUSTED


def test_another_genesis_is_another_chain_whatever_its_height():
    assert judge_chain(ANCHOR, 510, "0xother", "0xhash500", lag_blocks=100) == CHANGED
    assert judge_chain(ANCHOR, 3, "0xother", None, lag_blocks=100) == CHANGED


def test_the_same_genesis_far_behind_or_with_another_block_at_the_anchor_is_rewound():
    assert judge_chain(ANCHOR, 3, "0xgenesis", None, lag_blocks=100) == REWOUND
    assert judge_chain(ANCHOR, 900, "0xgenesis", "0xfork500", lag_blocks=100) == REWOUND


def test_the_same_chain_a_few_blocks_behind_the_anchor_is_a_lagging_node():
    assert judge_chain(ANCHOR, 498, "0xgenesis", None, lag_blocks=100) == LAGGING


def test_the_anchor_survives_a_restart_and_only_moves_forward(tmp_path):
    path = tmp_path / "state.json"
    t = AgentState(path)
    t.trust("0xgenesis", 500, "0xhash500")
    t.trust("0xgenesis", 400, "0xhash400")  # an older head never moves it back
    t.save()
    assert AgentState(path).anchor == ANCHOR
    assert t.save() is False  # nothing changed since


def test_the_state_file_is_replaced_atomically_and_only_when_something_changed(tmp_path):
    path = tmp_path / "sub" / "state.json"
    t = AgentState(path)
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
        AgentState(path)
