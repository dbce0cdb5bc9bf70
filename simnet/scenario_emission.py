"""The scenario's emission events (:mod:`simnet.emission_shares`), beside :mod:`simnet.scenario`.

* ``emission_switch: {netuid, enabled}`` — root's ``sudo_set_subnet_emission_enabled``: the
  subnet keeps paying its alpha but gets no TAO; its share goes to the others.
* ``price_move: {netuid, change_percent}`` — trading moves the pool's TAO reserve by
  ``change_percent`` (a stand-in for the buys and sells that move a spot price); the EMA price
  follows over ~1/alpha blocks, and with it the subnet's share and its place against the bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from common.config import StrictModel

if TYPE_CHECKING:
    from simnet.state import Chain


class EmissionSwitch(StrictModel):
    netuid: Annotated[int, Field(ge=1, le=4095)]
    enabled: bool


class PriceMove(StrictModel):
    netuid: Annotated[int, Field(ge=1, le=4095)]
    change_percent: Annotated[float, Field(gt=-100)]


def fire_switch(chain: Chain, switch: EmissionSwitch) -> str:
    old = chain.subnet(switch.netuid).emission_enabled
    chain.economy.set_emission_enabled(switch.netuid, switch.enabled)
    return f"SubnetEmissionEnabled on {switch.netuid}: {old} -> {switch.enabled}"


def fire_price_move(chain: Chain, move: PriceMove) -> str:
    before = chain.subnet(move.netuid).price_rao
    chain.economy.move_price(move.netuid, 1 + move.change_percent / 100)
    after = chain.subnet(move.netuid).price_rao
    return f"spot price of {move.netuid}: {before / 1e9:.6g} -> {after / 1e9:.6g} TAO"
