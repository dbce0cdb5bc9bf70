"""The scenario's mechanism fields (:mod:`simnet.mechanisms`), beside :mod:`simnet.scenario`.

Per subnet ``mechanisms: int = 1`` (1..8) and ``mechanism_split: [float, ...]`` (one share
per mechanism, summing to 1; unset: even), and the event ``mechanism_split: {netuid, split}``.
Shares become the chain's u16 values summing to 65535 (:func:`simnet.mechanisms.u16_split`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import StrictModel
from simnet.mechanisms import MAX_MECHANISM_COUNT, u16_split
from simnet.subnets import DEFAULT_MAX_ALLOWED_UIDS

MechanismCount = Annotated[int, Field(ge=1, le=MAX_MECHANISM_COUNT)]
Share = Annotated[float, Field(ge=0, le=1)]


class MechanismSplit(StrictModel):
    netuid: int
    split: list[Share]


def check_split(split: list[float], mechanisms: int, where: str) -> None:
    if len(split) != mechanisms:
        raise ValueError(
            f"{where}: {len(split)} shares for {mechanisms} mechanism(s); give one per mechanism"
        )
    if abs(sum(split) - 1) > 1e-6:
        raise ValueError(f"{where}: the shares sum to {sum(split):g}; they must sum to 1")


def check_subnet(mechanisms: int, split: list[float] | None, max_uids: int) -> None:
    """The chain's own limits, named by the scenario's fields."""
    if max_uids * mechanisms > DEFAULT_MAX_ALLOWED_UIDS:
        raise ValueError(
            f"mechanisms: {mechanisms} mechanisms x max_uids {max_uids} exceeds the chain's "
            f"{DEFAULT_MAX_ALLOWED_UIDS}; lower max_uids to "
            f"{DEFAULT_MAX_ALLOWED_UIDS // mechanisms} or fewer"
        )
    if split is not None:
        check_split(split, mechanisms, "mechanism_split")


def apply_subnet(chain, netuid: int, mechanisms: int, split: list[float] | None) -> None:
    if mechanisms > 1:
        chain.set_mechanism_count(netuid, mechanisms)
    if split is not None and mechanisms > 1:
        chain.set_mechanism_split(netuid, u16_split(split))


def fire_split(chain, ev: MechanismSplit) -> str:
    """Apply the event; the line the world notes (old -> new)."""
    old = chain.subnet(ev.netuid).mechanism_split
    new = u16_split(ev.split)
    chain.set_mechanism_split(ev.netuid, new)
    was = "even" if old is None else "/".join(str(s) for s in old)
    return f"mechanism split on {ev.netuid}: {was} -> {'/'.join(str(s) for s in new)}"
