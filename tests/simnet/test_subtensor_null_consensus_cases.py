"""subtensor's own Null-consensus epoch tests, run on simnet's Null epoch.

Source: ``pallets/subtensor/src/tests/null_consensus.rs`` (RaoFoundation/subtensor). Setup as
its ``setup(stakes)``: four uids appended at block 0, the first two staked with validator
permits, the block set to 1 and ``SubnetEpochConsensus`` set to Null; weights are set at
block 1 (``set_weights`` max-upscales the row); one ``epoch_mechanism`` over 1,000,000 alpha rao.
The tolerances are the tests' (1 or 5 rao).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from simnet.null_consensus import apportion_units, null_epoch
from simnet.records import Subnet
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnet_epoch import null_consensus_outcome
from simnet.subnets import legacy_rules
from simnet.testing import dev_keypair

BUDGET = 1_000_000
MAX = 65535


@dataclass
class NullSubnet:
    chain: Chain
    stake: dict[str, float]

    @property
    def sn(self) -> Subnet:
        return self.chain.subnet(1)

    def set_weights(self, uid: int, dests: list[int], values: list[int]) -> None:
        """``set_weights`` signed by the uid's hotkey, through simnet's own weights rule."""
        self.chain.set_weights(1, self.sn.neurons[uid].hotkey, dests, values)

    def epoch(self, budget: int = BUDGET) -> dict[str, list]:
        return null_epoch(self.sn, self.stake, budget)


def setup(stakes: tuple[int, int]) -> NullSubnet:
    chain = Chain(block_time=0.25)
    chain.create_subnet(
        1,
        tempo=100_000,
        max_uids=4,
        null_consensus_enabled=True,
        **(legacy_rules() | {"weights_rate_limit": 0, "min_allowed_weights": 1}),
    )
    for uid in range(4):
        cold = dev_keypair(f"null-cold-{uid}").ss58_address
        chain.fund(cold, 10 * RAO_PER_TAO)
        chain.register(1, dev_keypair(f"null-hot-{uid}").ss58_address, cold)
    chain.step()
    sn = chain.subnet(1)
    sn.pending_emission = BUDGET
    return NullSubnet(chain, {sn.neurons[uid].hotkey: float(s) for uid, s in enumerate(stakes)})


def near(values: list[int], expected: list[int], tol: int) -> bool:
    return all(abs(v - e) <= tol for v, e in zip(values, expected, strict=True))


def test_null_consensus_winner_incentives_and_stake_dividends_ignore_activity():
    w = setup((300_000_000, 100_000_000))
    w.set_weights(0, [2, 3], [3, 1])
    w.set_weights(1, [3], [MAX])
    # both validators are long inactive by now; Null still uses their stake
    late = w.sn.neurons[0].last_update + w.sn.activity_cutoff_blocks + 2
    out = null_consensus_outcome(w.sn, late, stake=w.stake)
    assert not out.active[0] and not out.active[1]
    assert near(out.validator_emission[:2], [375_000, 125_000], 5)
    assert near(out.server_emission[2:], [375_000, 125_000], 5)
    assert out.server_emission[:2] == [0, 0]


def test_null_consensus_tie_selects_first_uid():
    w = setup((100_000_000, 100_000_000))
    w.set_weights(0, [2], [MAX])
    w.set_weights(1, [3], [MAX])
    terms = w.epoch()
    assert abs(terms["server"][2] - 500_000) <= 1 and terms["server"][3] == 0


def test_null_consensus_empty_winner_weights_share_across_every_uid():
    w = setup((300_000_000, 100_000_000))
    w.set_weights(1, [3], [MAX])  # the loser's row must not stand in for the winner's
    terms = w.epoch()
    assert near(terms["server"], [125_000] * 4, 1)
    assert near(terms["validator"][:2], [375_000, 125_000], 1)


def test_null_consensus_selects_winner_before_normalized_stake_rounding():
    w = setup((1_000_000_000, 1_000_000_001))
    w.set_weights(0, [2], [MAX])
    w.set_weights(1, [3], [MAX])
    terms = w.epoch()
    assert terms["server"][2] == 0 and abs(terms["server"][3] - 500_000) <= 1


def test_null_consensus_stale_winner_row_uses_equal_fallback():
    w = setup((300_000_000, 100_000_000))
    w.set_weights(0, [2], [MAX])
    w.set_weights(1, [3], [MAX])
    last = w.sn.neurons[0].last_update
    w.sn.neurons[2] = replace(w.sn.neurons[2], registered_at=last + 1)  # replaced after them
    assert near(w.epoch()["server"], [125_000] * 4, 1)


def test_null_consensus_preserves_bonds():
    w = setup((300_000_000, 100_000_000))
    w.sn.neurons[0] = replace(w.sn.neurons[0], bonds=((2, 12345),))
    w.sn.neurons[1] = replace(w.sn.neurons[1], bonds=((3, 54321),))
    out = null_consensus_outcome(w.sn, 2, stake=w.stake)
    assert out.bonds[:2] == [((2, 12345),), ((3, 54321),)]


def test_null_consensus_no_stake_has_only_equal_miner_emissions():
    w = setup((0, 0))
    terms = w.epoch()
    assert terms["server"] == [250_000] * 4 and terms["validator"] == [0] * 4


@pytest.mark.parametrize("budget", [0, 1, 7, 16_001, 1_000_003, 2**64 - 1])
def test_null_apportionment_conserves_large_and_subatomic_budgets(budget):
    shares = [MAX] * 16_000
    shares[0], shares[100] = 1, 0
    payouts = apportion_units(shares, budget)
    assert sum(payouts) == budget and payouts[100] == 0
    assert payouts == apportion_units(shares, budget)
    total = sum(shares)
    assert all(
        p in (budget * s // total, budget * s // total + 1)
        for s, p in zip(shares, payouts, strict=True)
    )


@pytest.mark.parametrize("budget", [0, 1, 3, 131_071, 2**64 - 1])
def test_null_consensus_preserves_raw_weights_and_epoch_budget(budget):
    w = setup((300_000_000, 100_000_000))
    w.set_weights(0, [2, 3], [65_534, 1])
    assert w.sn.neurons[0].weights == ((2, 65_534), (3, 1))  # stored raw, not max-upscaled
    terms = w.epoch(budget)
    assert sum(terms["server"]) == budget - budget // 2
    assert sum(terms["validator"]) == budget // 2
