"""The block's TAO follows the EMA price, not the spot price: a price shock does not move a
subnet's share at once, and moves it after about 1/alpha blocks (subtensor
``emission_shares_from_price_ema`` reads ``SubnetMovingPrice``, which ``update_moving_price``
moves toward the spot price each block)."""

from __future__ import annotations

import math

import pytest

from simnet.economy import EmissionSchedule
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import dev_wallet

TAO = RAO_PER_TAO
ALPHA = 0.01  # price_ema_alpha: the EMA closes 1 - (1 - a)^k of a gap in k blocks


def two_equal_subnets() -> Chain:
    chain = Chain(emission=EmissionSchedule(mode="ranked", price_ema_alpha=ALPHA))
    owner = dev_wallet("Alice").coldkey.ss58_address
    for netuid in (1, 2):
        chain.create_subnet(netuid, tempo=100_000, owner_coldkey=owner)
    chain.step(5)
    return chain


def shock(chain: Chain, netuid: int) -> None:
    """A large buy: the spot price of ``netuid`` jumps in one block."""
    buyer = dev_wallet("Buyer")
    chain.fund(buyer.coldkey.ss58_address, 10_000 * TAO)
    chain.register(netuid, buyer.hotkey.ss58_address, buyer.coldkey.ss58_address)
    chain.add_stake(buyer.coldkey.ss58_address, buyer.hotkey.ss58_address, netuid, 1_000 * TAO)


def share(chain: Chain, netuid: int) -> float:
    total = sum(chain.subnet(n).tao_in_emission for n in (1, 2))
    return chain.subnet(netuid).tao_in_emission / total


def test_a_price_shock_moves_the_share_only_as_fast_as_the_ema():
    chain = two_equal_subnets()
    assert share(chain, 2) == pytest.approx(0.5, abs=1e-6)
    before = chain.subnet(2).moving_price
    shock(chain, 2)
    chain.step(1)
    spot = min(1.0, chain.subnet(2).price_rao / TAO)
    assert spot > 1.5 * before  # the shock is large
    gap = spot - before

    # one block later: the EMA has closed about alpha of the gap, and the share barely moved
    moved = chain.subnet(2).moving_price - before
    assert moved / gap == pytest.approx(ALPHA, rel=0.2)
    assert share(chain, 2) < 0.52

    # after 1/alpha blocks the EMA has closed about 1 - 1/e of the gap; the share followed
    chain.step(round(1 / ALPHA) - 1)
    moved = chain.subnet(2).moving_price - before
    assert moved / gap == pytest.approx(1 - math.exp(-1), abs=0.05)
    assert share(chain, 2) > 0.6
