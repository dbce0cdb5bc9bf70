"""Coldkey swap scheduling, delegate take and childkeys through the SDK's own intents."""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.governance import DEFAULT_TAKE, SWAP_ANNOUNCEMENT_DELAY
from simnet.state import RAO_PER_TAO
from simnet.testing import dev_keypair, sim_client

TAO = RAO_PER_TAO


def events_named(chain, name: str) -> list:
    return [ev for ev in chain.record().events if ev.event == name]


async def test_a_coldkey_swap_is_announced_then_refused_until_the_delay_passes(world):
    chain, owner = world.chain, world.validators[0]
    new = dev_keypair("NewColdkey").ss58_address
    async with sim_client(chain) as client:
        result = await client.execute(bt.AnnounceColdkeySwap(new_coldkey_ss58=new), owner)
        assert result.success, result.message
        assert events_named(chain, "ColdkeySwapAnnounced")
        announced = await client.read(
            "coldkey_swap_announcement", coldkey_ss58=owner.coldkey.ss58_address
        )
        assert announced["execute_block"] == chain.head + SWAP_ANNOUNCEMENT_DELAY
        assert not announced["disputed"]
        early = await client.execute(bt.SwapColdkeyAnnounced(new_coldkey_ss58=new), owner)
        assert not early.success and early.error.name == "ColdkeySwapTooEarly"


async def test_after_the_delay_the_swap_moves_balance_stake_and_ownership(world):
    chain, owner = world.chain, world.validators[0]
    old, hotkey = owner.coldkey.ss58_address, owner.hotkey.ss58_address
    new = dev_keypair("NewColdkey").ss58_address
    stake = chain.stake_alpha(world.netuid, hotkey, old)
    chain.governance.swap_delay = 5
    async with sim_client(chain) as client:
        assert (await client.execute(bt.AnnounceColdkeySwap(new_coldkey_ss58=new), owner)).success
        chain.step(5)
        wrong = await client.execute(
            bt.SwapColdkeyAnnounced(new_coldkey_ss58=dev_keypair("Other").ss58_address), owner
        )
        assert not wrong.success and wrong.error.name == "AnnouncedColdkeyHashDoesNotMatch"
        result = await client.execute(bt.SwapColdkeyAnnounced(new_coldkey_ss58=new), owner)
        assert result.success, result.message
    assert events_named(chain, "ColdkeySwapped")
    assert chain.balance(old) == 0 and chain.balance(new) > 0
    assert chain.stake_alpha(world.netuid, hotkey, new) == stake
    assert chain.owner_of(hotkey) == new
    uid = chain.subnet(world.netuid).uids[hotkey]
    assert chain.subnet(world.netuid).neurons[uid].coldkey == new


async def test_a_disputed_swap_cannot_execute_until_root_resets_it(world):
    chain, owner = world.chain, world.validators[0]
    new = dev_keypair("NewColdkey").ss58_address
    chain.governance.swap_delay = 1
    async with sim_client(chain) as client:
        assert (await client.execute(bt.AnnounceColdkeySwap(new_coldkey_ss58=new), owner)).success
        assert (await client.execute(bt.DisputeColdkeySwap(), owner)).success
        announced = await client.read(
            "coldkey_swap_announcement", coldkey_ss58=owner.coldkey.ss58_address
        )
        assert announced["disputed"]
        chain.step(2)
        frozen = await client.execute(bt.SwapColdkeyAnnounced(new_coldkey_ss58=new), owner)
        assert not frozen.success and frozen.error.name == "ColdkeySwapDisputed"
        chain.governance.reset_coldkey_swap(owner.coldkey.ss58_address)
        cleared = await client.read(
            "coldkey_swap_announcement", coldkey_ss58=owner.coldkey.ss58_address
        )
    assert cleared is None


async def test_take_changes_go_through_set_take_and_emit_the_chains_events(world):
    chain, owner = world.chain, world.validators[0]
    hotkey = owner.hotkey.ss58_address
    async with sim_client(chain) as client:
        before = await client.read("delegate_take", hotkey_ss58=hotkey)
        assert before["take_u16"] == DEFAULT_TAKE
        result = await client.execute(bt.SetTake(0.09), owner)
        assert result.success, result.message
        assert events_named(chain, "TakeDecreased")
        after = await client.read("delegate_take", hotkey_ss58=hotkey)
        assert after["take"] == pytest.approx(0.09, abs=1e-4)
        too_high = await client.execute(bt.IncreaseTake(0.5), owner)
        assert not too_high.success and too_high.error.name == "DelegateTakeTooHigh"
        stranger = await client.execute(bt.SetTake(0.05, hotkey_ss58=hotkey), world.miners[0])
        assert not stranger.success and stranger.error.name == "NonAssociatedColdKey"


async def test_children_are_pending_through_the_cooldown_then_applied(world):
    chain, parent = world.chain, world.validators[0]
    child = world.validators[1].hotkey.ss58_address
    chain.governance.childkey_cooldown = 3
    async with sim_client(chain) as client:
        result = await client.execute(bt.SetChildren(world.netuid, [[0.5, child]]), parent)
        assert result.success, result.message
        assert events_named(chain, "SetChildrenScheduled")
        pending = await client.read(
            "pending_children", hotkey_ss58=parent.hotkey.ss58_address, netuid=world.netuid
        )
        assert [c for _p, c in pending["children"]] == [child]
        assert pending["cooldown_block"] == chain.head + 3
        assert (
            await client.read(
                "children", hotkey_ss58=parent.hotkey.ss58_address, netuid=world.netuid
            )
            == []
        )
        chain.step(3)
        assert events_named(chain, "SetChildren")
        children = await client.read(
            "children", hotkey_ss58=parent.hotkey.ss58_address, netuid=world.netuid
        )
        parents = await client.read("parents", hotkey_ss58=child, netuid=world.netuid)
    assert [c for _p, c in children] == [child]
    assert [p for _q, p in parents] == [parent.hotkey.ss58_address]
    assert children[0][0] == pytest.approx(2**63, rel=1e-6)


async def test_a_hotkey_cannot_be_its_own_child(world):
    parent = world.validators[0]
    async with sim_client(world.chain) as client:
        result = await client.execute(
            bt.SetChildren(world.netuid, [[0.5, parent.hotkey.ss58_address]]), parent
        )
    assert not result.success and result.error.name == "InvalidChild"
