"""Scenario emission events: one switches a subnet's emission off, one moves a price so a
subnet slides under the bar; both are what the SDK reads afterwards (storage and dynamic info)."""

from __future__ import annotations

import bittensor as bt
import pytest

from common.config import ConfigError
from simnet.emission_shares import gate_weight, price_shares
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from simnet.testing import sim_client

SCENARIO = """
name: emission-events
block_time: 1
seed: 3
accounts: [{uri: "//Alice", tao: 100000}]
emission: {tao_per_block: 1, price_ema_alpha: 0.05}
subnets:
  - {netuid: 1, tempo: 1000}
  - {netuid: 2, tempo: 1000, alpha_price_tao: 0.5}
  - {netuid: 3, tempo: 1000, emission_enabled: false}
scale: {subnets: 40, first_netuid: 4, neurons: 1, validators: 1, tempo: 1000}
events:
  - {at: 5, emission_switch: {netuid: 1, enabled: false}}
  - {at: 5, price_move: {netuid: 2, change_percent: -95}}
"""


def world(tmp_path, text: str = SCENARIO) -> tuple[Chain, World]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    chain = Chain(block_time=1)
    return chain, World(chain, load_scenario(path)).build()


def share(chain: Chain, netuid: int) -> float:
    total = sum(chain.subnet(n).tao_in_emission for n in chain.netuids if n != 0)
    return chain.subnet(netuid).tao_in_emission / total


async def test_switching_a_subnets_emission_off_stops_its_tao_but_not_its_alpha(tmp_path):
    chain, w = world(tmp_path)
    chain.step(4 - chain.head)
    assert chain.subnet(1).tao_in_emission > 0
    assert chain.subnet(3).tao_in_emission == 0  # registered with the switch off
    chain.step(2)
    assert chain.subnet(1).tao_in_emission == 0
    assert chain.subnet(1).alpha_out_emission > 0
    assert any("SubnetEmissionEnabled on 1: True -> False" in what for _b, what in w.log)
    storage = bt.storage.SubtensorModule
    async with sim_client(chain) as client:
        enabled = dict(await client.query_map(storage.SubnetEmissionEnabled))
        stored = await client.query(storage.SubnetTaoInEmission, [4])
    assert enabled[1] is False and enabled[3] is False and enabled[4] is True
    assert stored == chain.subnet(4).tao_in_emission > 0
    async with sim_client(chain) as client:
        # the rest of the eligibility get_subnets_to_emit_to reads holds for every subnet
        first = await client.query(storage.FirstEmissionBlockNumber, [1])
        subtoken = await client.query(storage.SubtokenEnabled, [1])
        allowed = await client.query(storage.NetworkRegistrationAllowed, [1])
    assert first is not None and subtoken is True and allowed is True


def demand_share(chain: Chain, netuid: int) -> float:
    prices = {n: chain.subnet(n).moving_price for n in chain.netuids if n != 0}
    return price_shares(prices)[netuid]


def test_a_price_drop_slides_the_subnet_under_the_bar_as_the_ema_follows(tmp_path):
    chain, _w = world(tmp_path)
    chain.step(4 - chain.head)
    before = share(chain, 2)
    assert demand_share(chain, 2) >= chain.economy.gate_bar
    chain.step(2)
    assert share(chain, 2) == pytest.approx(before, rel=0.2)  # the EMA has barely moved
    chain.step(360 - chain.head)  # the bar is recomputed on the 360-block boundary
    assert demand_share(chain, 2) < chain.economy.gate_bar / 4
    assert gate_weight(demand_share(chain, 2), chain.economy.gate_bar, 3.0) < 0.02
    assert share(chain, 2) < before / 10


def test_an_emission_event_names_its_field_when_malformed(tmp_path):
    bad = SCENARIO.replace("change_percent: -95", "change_percent: -100")
    with pytest.raises(ConfigError, match="change_percent"):
        world(tmp_path, bad)
