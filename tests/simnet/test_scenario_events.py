"""Scenario events for governance and registration: each changes what the SDK reads, and a
malformed one names its field."""

from __future__ import annotations

import pytest

from common.config import ConfigError
from simnet.burn import decay_factor_q32
from simnet.governance import DEFAULT_TAKE
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from simnet.testing import dev_keypair, sim_client
from tests.support.scenarios import EVENTS_SUBNET


def write(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def world_with(tmp_path, events: str) -> tuple[Chain, World]:
    chain = Chain(block_time=1)
    world = World(chain, load_scenario(write(tmp_path, EVENTS_SUBNET + events))).build()
    return chain, world


def step_to(chain: Chain, block: int) -> None:
    chain.step(block - chain.head)


def notes(world: World) -> list[str]:
    return [what for _block, what in world.log]


def events_named(chain: Chain, name: str) -> list:
    return [ev for ev in chain.record().events if ev.event == name]


async def test_an_announced_coldkey_swap_is_stored_and_executes_only_after_the_delay(tmp_path):
    chain, world = world_with(
        tmp_path,
        """
events:
  - {at: 5, coldkey_swap: {coldkey: v1, action: announce, new_coldkey: "//Eve"}}
  - {at: 7, coldkey_swap: {coldkey: v1, action: execute}}
  - {at: 12, coldkey_swap: {coldkey: v1, action: execute}}
""",
    )
    chain.governance.swap_delay = 6
    old, eve = world.coldkey("v1"), dev_keypair("Eve").ss58_address
    step_to(chain, 5)
    assert events_named(chain, "ColdkeySwapAnnounced")
    async with sim_client(chain) as client:
        announced = await client.read("coldkey_swap_announcement", coldkey_ss58=old)
    assert announced["execute_block"] == 11
    step_to(chain, 7)
    assert "ColdkeySwapTooEarly" in notes(world)[-1]
    assert chain.owner_of(world.hotkey("v1")) == old
    step_to(chain, 12)
    assert events_named(chain, "ColdkeySwapped")
    assert chain.owner_of(world.hotkey("v1")) == eve
    assert notes(world)[-1] == f"coldkey swap of v1 executed: {old} -> {eve}"
    async with sim_client(chain) as client:
        assert await client.read("coldkey_swap_announcement", coldkey_ss58=old) is None


async def test_a_disputed_swap_shows_as_disputed_until_root_resets_it(tmp_path):
    chain, world = world_with(
        tmp_path,
        """
events:
  - {at: 3, coldkey_swap: {coldkey: m1, action: announce, new_coldkey: "//Ferdie"}}
  - {at: 4, coldkey_swap: {coldkey: m1, action: dispute}}
  - {at: 6, coldkey_swap: {coldkey: m1, action: reset}}
""",
    )
    cold = world.coldkey("m1")
    step_to(chain, 4)
    async with sim_client(chain) as client:
        disputed = await client.read("coldkey_swap_announcement", coldkey_ss58=cold)
        assert disputed["disputed"]
        step_to(chain, 6)
        assert events_named(chain, "ColdkeySwapReset")
        assert await client.read("coldkey_swap_announcement", coldkey_ss58=cold) is None
    assert "reset by root" in notes(world)[-1]


async def test_a_take_event_moves_the_delegate_take_the_sdk_reads(tmp_path):
    chain, world = world_with(
        tmp_path,
        """
events:
  - {at: 3, take: {hotkey: v1, percent: 9}}
  - {at: 4, take: {hotkey: v1, percent: 40}}
""",
    )
    hotkey = world.hotkey("v1")
    async with sim_client(chain) as client:
        before = await client.read("delegate_take", hotkey_ss58=hotkey)
        step_to(chain, 3)
        after = await client.read("delegate_take", hotkey_ss58=hotkey)
        assert events_named(chain, "TakeDecreased")
        step_to(chain, 4)
        refused = await client.read("delegate_take", hotkey_ss58=hotkey)
    assert before["take_u16"] == DEFAULT_TAKE
    assert after["take"] == pytest.approx(0.09, abs=1e-4)
    assert refused == after  # above the chain's 18% cap: refused, nothing changes
    assert notes(world)[0] == "take of v1: 18.00% -> 9.00%"
    assert "DelegateTakeTooHigh" in notes(world)[1]


async def test_childkeys_are_pending_through_the_cooldown_then_the_sdk_reads_them(tmp_path):
    chain, world = world_with(
        tmp_path,
        """
events:
  - {at: 3, childkeys: {netuid: 1, hotkey: v1, children: [{hotkey: v2, proportion: 0.5}]}}
""",
    )
    chain.governance.childkey_cooldown = 4
    parent, child = world.hotkey("v1"), world.hotkey("v2")
    step_to(chain, 3)
    async with sim_client(chain) as client:
        pending = await client.read("pending_children", hotkey_ss58=parent, netuid=1)
        assert [c for _p, c in pending["children"]] == [child]
        assert pending["cooldown_block"] == 7
        assert await client.read("children", hotkey_ss58=parent, netuid=1) == []
        step_to(chain, 7)
        children = await client.read("children", hotkey_ss58=parent, netuid=1)
    assert [c for _p, c in children] == [child]
    assert notes(world)[0] == ("childkeys of v1 on 1: 0 children -> [v2 0.5] pending until block 7")


async def test_a_registration_burst_climbs_the_burn_and_prunes_a_full_subnet(tmp_path):
    chain, world = world_with(
        tmp_path,
        """
events:
  - {at: 20, registration_burst: {netuid: 1, count: 4}}
""",
    )
    step_to(chain, 19)
    async with sim_client(chain) as client:
        before = await client.subnets.info(1)
        step_to(chain, 20)
        after = await client.subnets.info(1)
    assert before.neuron_count == 4 and after.neuron_count == 6  # max_uids 6: two pruned
    # Block 20 first decays the burn one step (half-life 360), then each registration climbs it.
    decayed = before.burn.rao * decay_factor_q32(360) / 2**32
    assert after.burn.rao == pytest.approx(decayed * 1.26**4, rel=1e-6)
    assert chain.subnet(1).registrations_this_block == 4
    assert notes(world)[-1].startswith("registration burst on 1: 4 registered, 2 pruned, burn ")


def test_burst_keys_are_fresh_per_registration_and_reproducible_from_the_seed(tmp_path):
    _chain, world = world_with(tmp_path, "")
    keys = world.governance_events.burst_keys
    assert keys(1, 5, 0)[0].ss58_address == keys(1, 5, 0)[0].ss58_address
    assert len({keys(1, 5, i)[0].ss58_address for i in range(4)}) == 4


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            "{at: 5, coldkey_swap: {coldkey: v1, action: announce}}",
            "events[0].coldkey_swap: Value error, new_coldkey: required to announce",
        ),
        (
            "{at: 5, coldkey_swap: {coldkey: v1, action: steal}}",
            "events[0].coldkey_swap.action: Input should be 'announce', 'dispute', 'reset', "
            "'execute' or 'root_swap'",
        ),
        (
            "{at: 5, coldkey_swap: {coldkey: v1, action: announce, new_coldkey: eve}}",
            "events[0].coldkey_swap.new_coldkey: Value error, 'eve' is not an ss58 address",
        ),
        (
            "{at: 5, coldkey_swap: {coldkey: nobody, action: dispute}}",
            "events[0].coldkey_swap: 'nobody' is neither a simulated neuron's name",
        ),
        ("{at: 5, take: {hotkey: v1, percent: 150}}", "events[0].take.percent: Input should be"),
        ("{at: 5, take: {hotkey: v1}}", "events[0].take.percent: required field is missing"),
        (
            "{at: 5, childkeys: {netuid: 1, hotkey: v1, children: [{hotkey: ghost, "
            "proportion: 0.5}]}}",
            "events[0].childkeys: 'ghost' is neither a simulated neuron's name",
        ),
        (
            "{at: 5, childkeys: {netuid: 1, hotkey: v1, children: [{hotkey: v2, "
            "proportion: 0.7}, {hotkey: m1, proportion: 0.7}]}}",
            "events[0].childkeys: Value error, children: proportions sum to 1.4",
        ),
        (
            "{at: 5, registration_burst: {netuid: 1, count: 0}}",
            "events[0].registration_burst.count: Input should be greater than 0",
        ),
        (
            "{at: 5, registration_burst: {netuid: 3, count: 2}}",
            "events[0]: netuid 3 is not in subnets (registration_burst.netuid)",
        ),
        (
            "{at: 5, take: {hotkey: v1, percent: 5}, registration_burst: {netuid: 1, count: 2}}",
            "events[0]: Value error, each event has `at` and exactly one of",
        ),
    ],
)
def test_a_malformed_event_names_its_field(tmp_path, event, expected):
    with pytest.raises(ConfigError) as err:
        load_scenario(write(tmp_path, EVENTS_SUBNET + f"events:\n  - {event}\n"))
    assert expected in str(err.value)
