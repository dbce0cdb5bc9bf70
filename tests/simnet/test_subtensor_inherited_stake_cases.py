"""Stake after childkey inheritance: subtensor's own ``get_inherited_for_hotkey_on_subnet`` tests
on simnet's rule, and the metagraph's stake columns the SDK reads after a childkey assignment.

Source: ``pallets/subtensor/src/tests/children.rs`` (opentensor/subtensor): the tests build the
childkey graph with ``mock_set_children_no_epochs`` (no cooldown) and assert within 10 rao
(``close``) or exactly (``assert_eq``).
"""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.economy import U64_MAX, inherited
from simnet.testing import sim_client, small_world

CASES = [
    # (test, own stake, children by parent, expected inherited stake, tolerance)
    (
        "test_get_stake_for_hotkey_on_subnet_single_parent_child",
        {"parent": 1_000_000_000},
        {"parent": ((U64_MAX, "child"),)},
        {"parent": 0, "child": 1_000_000_000},
        0,
    ),
    (
        "test_get_stake_for_hotkey_on_subnet_multiple_parents_single_child",
        {"parent1": 1000, "parent2": 2000},
        {"parent1": ((U64_MAX // 2, "child"),), "parent2": ((U64_MAX // 2, "child"),)},
        {"parent1": 500, "parent2": 1000, "child": 1499},
        10,
    ),
    (
        "test_get_stake_for_hotkey_on_subnet_single_parent_multiple_children",
        {"parent": 3000},
        {"parent": ((U64_MAX // 3, "child1"), (U64_MAX // 3, "child2"))},
        {"parent": 1000, "child1": 1000, "child2": 1000},
        10,
    ),
    (
        "test_get_stake_for_hotkey_on_subnet_edge_cases",
        {"parent": 600_000_000_000_000},
        {"parent": ((0, "child1"), (U64_MAX, "child2"))},
        {"parent": 0, "child1": 0, "child2": 600_000_000_000_000},
        0,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_inherited_stake_matches_subtensors_children_tests(case):
    _test, own, children, expected, tolerance = case
    got = inherited(own, children)
    for hotkey, stake in expected.items():
        assert abs(got.get(hotkey, 0) - stake) <= tolerance, hotkey


async def test_a_childkey_assignment_moves_stake_in_the_metagraph_without_any_stake_leaving():
    world = small_world(block_time=0.25)
    chain, parent = world.chain, world.validators[0]
    child = world.validators[1].hotkey.ss58_address
    chain.governance.childkey_cooldown = 2

    async def stake_columns() -> dict[str, tuple[int, int]]:
        async with sim_client(chain) as client:
            mg = await client.subnets.metagraph(world.netuid)
        return {n.hotkey: (n.alpha_stake.rao, n.total_stake.rao) for n in mg.neurons}

    before = await stake_columns()
    async with sim_client(chain) as client:
        done = await client.execute(bt.SetChildren(world.netuid, [[0.5, child]]), parent)
        assert done.success, done.message
    chain.step(3)
    after = await stake_columns()
    own = chain.subnet(world.netuid).hotkey_alpha(parent.hotkey.ss58_address)
    moved = own // 2
    assert after[parent.hotkey.ss58_address][0] == pytest.approx(own - moved, abs=2)
    assert after[child][0] == pytest.approx(before[child][0] + moved, abs=2)
    assert sum(a for a, _t in after.values()) == pytest.approx(
        sum(a for a, _t in before.values()), abs=2
    )
