"""subtensor's own emission-share tests, run on simnet's rule (simnet.emission_shares and the
coinbase in simnet.economy), each naming its source file and test. Tolerances are the tests'.

The gate tests come from ``pallets/subtensor/src/tests/subnet_emissions.rs`` at the version
that introduced the gate (spec 440), whose defaults were the q-mass bar (``EmissionBarRank``
unset there, q = 0.61, h = 3): they run here with ``bar_rank=0``. Today's chain pins the bar by
rank (32); the rank cases below are the rule chain-today.md states.
"""

from __future__ import annotations

import pytest

from simnet.economy import EmissionSchedule
from simnet.emission_shares import GateSettings, SubnetInputs, block_shares
from simnet.state import Chain
from simnet.testing import dev_wallet

Q_MASS = GateSettings(bar_rank=0, bar_quantile=0.61, exponent=3.0)


def priced(*prices: float, burned: dict[int, float] | None = None) -> dict[int, SubnetInputs]:
    return {
        n: SubnetInputs(moving_price=p, miner_burned=(burned or {}).get(n, 0.0))
        for n, p in enumerate(prices, start=1)
    }


# ------------------------------------------------------------- tests/subnet_emissions.rs


def test_get_shares_ignores_root_prop_storage_when_prices_and_burns_match():
    split = block_shares(priced(1.0, 1.0), block=0, stored_bar=0.0, settings=Q_MASS)
    assert split.shares[1] == pytest.approx(0.5, abs=1e-9)
    assert split.shares[2] == pytest.approx(0.5, abs=1e-9)


def test_emission_gate_empty_set_no_panic():
    split = block_shares({}, block=0, stored_bar=0.0, settings=Q_MASS)
    assert dict(split.shares) == {} and split.bar == 0.0  # "empty set must not write a bar"


def test_emission_gate_one_subnet_full_share():
    split = block_shares(priced(1.0), block=0, stored_bar=0.0, settings=Q_MASS)
    assert split.shares[1] == pytest.approx(1.0, abs=1e-9)
    assert split.bar == pytest.approx(1.0, abs=1e-9)


def test_emission_gate_concentrates_1_to_2_price_split():
    split = block_shares(priced(1.0, 2.0), block=0, stored_bar=0.0, settings=Q_MASS)
    assert split.bar == pytest.approx(2 / 3, abs=1e-9)
    assert split.shares[1] == pytest.approx(0.1, abs=1e-6)
    assert split.shares[2] == pytest.approx(0.9, abs=1e-6)


def test_emission_gate_underflow_restores_ungated_shares():
    inputs = {n: SubnetInputs(moving_price=1.0) for n in range(1, 257)}
    steep = GateSettings(bar_rank=0, bar_quantile=0.61, exponent=8.0)
    split = block_shares(inputs, block=1, stored_bar=1.0, settings=steep)
    assert sum(split.shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert all(v == pytest.approx(1 / 256, abs=1e-9) for v in split.shares.values())


def test_emission_gate_bar_update_cadence():
    head = block_shares(priced(7.0, 2.0, 1.0), block=0, stored_bar=0.0, settings=Q_MASS)
    assert head.bar == pytest.approx(0.7, abs=1e-9)
    flat = priced(1.0, 1.0, 1.0)
    mid = block_shares(flat, block=179, stored_bar=head.bar, settings=Q_MASS)
    assert mid.bar == pytest.approx(head.bar, abs=1e-9)  # sticky mid-interval
    due = block_shares(flat, block=360, stored_bar=mid.bar, settings=Q_MASS)
    assert due.bar == pytest.approx(1 / 3, abs=1e-9)  # EMISSION_BAR_UPDATE_INTERVAL


# ------------------------------------------------------------- tests/coinbase.rs (coinbase)


def coinbase_chain(subnets: int, per_block_rao: int) -> Chain:
    """``add_network`` x n with equal pools and an emission of ``per_block_rao`` per block."""
    chain = Chain(
        emission=EmissionSchedule(mode="ranked", base_rao=per_block_rao, start_issuance_rao=0)
    )
    owner = dev_wallet("Alice").coldkey.ss58_address
    for netuid in range(1, subnets + 1):
        chain.create_subnet(netuid, tempo=10_000, owner_coldkey=owner)
    return chain


def tao_in_emission(chain: Chain) -> list[int]:
    return [chain.subnet(n).tao_in_emission for n in chain.netuids if n != 0]


def test_coinbase_disabled_subnet_emission_redistributes_tao_to_enabled_subnets():
    emission = 3_333_333
    chain = coinbase_chain(3, emission)
    chain.economy.set_emission_enabled(2, False)
    tao_before = chain.subnet(2).tao_in
    chain.step()
    first, second, third = tao_in_emission(chain)
    assert first == pytest.approx(emission // 2, abs=2)
    assert second == 0 and chain.subnet(2).tao_in == tao_before
    assert third == pytest.approx(emission // 2, abs=2)
    assert chain.subnet(2).alpha_out_emission > 0  # its alpha still pays its participants


def test_sudo_set_subnet_emission_enabled_multiple_subnets_multiple_toggles():
    chain = coinbase_chain(3, 3_000_000)
    steps = [
        ({}, [1_000_000, 1_000_000, 1_000_000]),
        ({2: False}, [1_500_000, 0, 1_500_000]),
        ({1: False, 2: True}, [0, 1_500_000, 1_500_000]),
        ({1: True, 2: True, 3: True}, [1_000_000, 1_000_000, 1_000_000]),
    ]
    for switches, expected in steps:
        for netuid, on in switches.items():
            chain.economy.set_emission_enabled(netuid, on)
        chain.step()
        assert tao_in_emission(chain) == pytest.approx(expected, abs=2), switches
        assert all(chain.subnet(n).alpha_out_emission > 0 for n in (1, 2, 3))


# ------------------------------------------------------------- the rank-pinned bar (today)


def test_the_bar_is_the_32nd_largest_share_and_that_subnet_gets_half_gate_weight():
    inputs = priced(*(1.0 / n for n in range(1, 41)))
    split = block_shares(inputs, block=0, stored_bar=0.0, settings=GateSettings())
    assert split.bar == pytest.approx(split.demand[32])
    assert split.gate[32] == pytest.approx(0.5)
    assert split.gate[1] > 0.99 and split.gate[40] < 0.5
    assert split.shares[40] > 0  # a soft gate: no hard cut at any rank


def test_miner_burn_weights_a_subnets_share_by_one_minus_what_it_burns():
    split = block_shares(
        priced(1.0, 1.0, burned={1: 0.5}), block=0, stored_bar=0.0, settings=GateSettings()
    )
    assert split.demand[1] == pytest.approx(1 / 3) and split.demand[2] == pytest.approx(2 / 3)


def test_todays_defaults_pin_the_bar_at_rank_32_with_exponent_3():
    # chain-today.md: EmissionBarRank unset (32), EmissionGateExponent unset (3). A subnet at
    # half the bar's share gets g = 1 / (1 + 2^3) = 1/9 of its weight.
    assert (GateSettings().bar_rank, GateSettings().exponent) == (32, 3.0)
    inputs = priced(*([1.0] * 32 + [0.5]))
    split = block_shares(inputs, block=0, stored_bar=0.0, settings=GateSettings())
    assert split.gate[33] == pytest.approx(1 / 9)
    assert split.gate[1] == pytest.approx(0.5)
