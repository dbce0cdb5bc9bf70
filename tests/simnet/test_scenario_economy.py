"""The scenario's root and emission blocks and the per-subnet epoch switches, as the SDK reads
them."""

from __future__ import annotations

import pytest

from common.config import ConfigError
from simnet.economy import U64_MAX
from simnet.scenario import World, load_scenario
from simnet.scenario_economy import Emission
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import sim_client

TAO = RAO_PER_TAO

SUBNET = """
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 8
    yuma3: true
    liquid_alpha: true
    neurons:
      - {name: v1, role: validator, stake_tao: 100}
      - {name: v2, role: validator, stake_tao: 100}
      - {name: m1, role: miner, quality: 0.9}
  - netuid: 2
    tempo: 10
    null_consensus: true
    neurons:
      - {name: m2, role: miner}
"""


def write(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def build(tmp_path, text: str) -> tuple[Chain, World]:
    chain = Chain(block_time=1)
    return chain, World(chain, load_scenario(write(tmp_path, text))).build()


async def test_a_root_block_creates_netuid_0_and_its_tao_counts_toward_stake_weight(tmp_path):
    chain, world = build(
        tmp_path,
        SUBNET
        + """
root: {tempo: 100, tao_weight: 0.25, stakes: [{hotkey: v1, tao: 400}]}
""",
    )
    v1, v2 = world.hotkey("v1"), world.hotkey("v2")
    assert chain.subnet(0).tao_weight == round(0.25 * U64_MAX)
    async with sim_client(chain) as client:
        root_stake = await client.read(
            "stake", coldkey_ss58=world.coldkey("v1"), hotkey_ss58=v1, netuid=0
        )
        mg = await client.subnets.metagraph(1)
    assert root_stake.rao == 400 * TAO
    staked, plain = mg.by_hotkey(v1), mg.by_hotkey(v2)
    assert staked.tao_stake.rao == 400 * TAO
    assert staked.total_stake.rao == pytest.approx(staked.alpha_stake.rao + 100 * TAO, abs=2)
    assert plain.tao_stake.rao == 0 and plain.total_stake.rao == plain.alpha_stake.rao


def test_without_a_root_block_there_is_no_netuid_0(tmp_path):
    chain, _world = build(tmp_path, SUBNET)
    assert 0 not in chain.netuids


async def test_the_epoch_switches_reach_the_sdks_hyperparameters(tmp_path):
    chain, _world = build(tmp_path, SUBNET)
    async with sim_client(chain) as client:
        one = await client.read("subnet_hyperparameters", netuid=1)
    assert one["yuma3_enabled"] is True and one["liquid_alpha_enabled"] is True
    assert chain.subnet(2).null_consensus_enabled and not chain.subnet(1).null_consensus_enabled


def test_an_emission_block_pays_tao_per_block_to_every_subnet_through_the_gate(tmp_path):
    chain, _world = build(
        tmp_path,
        """
emission: {tao_per_block: 0.5}
scale: {subnets: 70, neurons: 2, validators: 1, tempo: 1000}
""",
    )
    chain.step()
    injected = {n: chain.subnet(n).tao_in_emission for n in chain.netuids}
    assert sum(injected.values()) == pytest.approx(TAO // 2, abs=70)
    # a soft gate, no hard cut at rank 64: every subnet (root aside) gets some TAO
    assert all(injected[n] > 0 for n in chain.netuids if n != 0)


def test_without_an_emission_block_no_tao_is_injected(tmp_path):
    chain, _world = build(tmp_path, SUBNET)
    chain.step()
    assert chain.subnet(1).tao_in_emission == 0


def test_the_emission_schedule_pays_today_then_halves_at_the_next_midpoint():
    schedule = Emission(tao_per_block=0.5, issuance_tao=10_600_000).schedule()
    assert schedule.block_emission_rao(10_600_000 * TAO, 1) == TAO // 2
    assert schedule.block_emission_rao(15_800_000 * TAO, 1) == TAO // 4
    by_block = Emission(tao_per_block=1, halving="block", first_halving_block=50).schedule()
    assert [by_block.block_emission_rao(0, b) for b in (1, 49, 50)] == [TAO, TAO, TAO // 2]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "root: {stakes: [{hotkey: nobody, tao: 5}]}",
            "root.stakes[0].hotkey: 'nobody' is neither a simulated neuron's name",
        ),
        ("root: {tao_weight: 2}", "root.tao_weight: Input should be less than or equal to 1"),
        ("root: {stakes: [{hotkey: v1}]}", "root.stakes[0].tao: required field is missing"),
        ("emission: {tao_per_block: 0}", "emission.tao_per_block: Input should be greater than 0"),
        ("emission: {halving: monthly}", "emission.halving: Input should be 'issuance' or 'block'"),
    ],
)
def test_a_malformed_root_or_emission_block_names_its_field(tmp_path, block, expected):
    with pytest.raises(ConfigError) as err:
        load_scenario(write(tmp_path, SUBNET + block + "\n"))
    assert expected in str(err.value)


def test_a_root_stake_on_an_unregistered_ss58_is_refused_naming_the_entry(tmp_path):
    stranger = "5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM"
    with pytest.raises(ConfigError, match=r"root\.stakes\[0\] \(5C4h.*not registered"):
        build(tmp_path, SUBNET + f"root: {{stakes: [{{hotkey: {stranger}, tao: 5}}]}}\n")
