"""Per-subnet switches that live only in storage, read as maps once per poll.

The metagraph record the poll reads carries most hyperparameters, and the events diff
(:mod:`exporters.events`) compares them poll to poll; these it does not carry, so a change to
one raised nothing. Each is declared once here: its storage item, how its value decodes to a
number, and the runtime's default for a subnet the map does not list. The poll reads them
(``read_switches``), exports them as ``bittensor_subnet_setting{name}`` (by storage name),
and the events diff treats them like the metagraph's hyperparameters, so
``BittensorSubnetHyperparameterChanged`` names the switch with its old -> new value.

``Yuma3On``, ``SubnetEpochConsensus``, ``SubnetEmissionEnabled``, ``MinNonImmuneUids`` and
``ImmuneOwnerUidsLimit`` come from the maps :mod:`exporters.economics` reads already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import bittensor as bt


def _bool(value: Any) -> float:
    return 1.0 if value else 0.0


def _int(value: Any) -> float:
    return float(int(value))


def _u64f64(value: Any) -> float:
    # FixedU128 with 64 fractional bits, as {"bits": n} or the raw integer
    bits = value.get("bits") if isinstance(value, Mapping) else value
    return int(bits or 0) / (1 << 64)


@dataclass(frozen=True)
class Switch:
    item: str  # the storage item (and the ``name`` label)
    decode: Callable[[Any], float]
    default: float  # the runtime's value for a subnet the map does not list


# Read by this module: one query_map each per poll.
READ: tuple[Switch, ...] = (
    Switch("BondsResetOn", _bool, 0.0),
    Switch("AlphaSigmoidSteepness", _int, 1000.0),
    Switch("BurnHalfLife", _int, 360.0),
    Switch("BurnIncreaseMult", _u64f64, 1.26),
)


async def _map(snap: Any, item: str) -> list[tuple[Any, Any]] | None:
    try:
        return await snap.query_map(getattr(bt.storage.SubtensorModule, item))
    except Exception:  # a runtime without the item: its series stay absent
        return None


async def read_switches(snap: Any) -> dict[str, dict[int, float]]:
    """Storage item -> {netuid: value}; an item the runtime lacks is left out."""
    maps = await asyncio.gather(*(_map(snap, s.item) for s in READ))
    out: dict[str, dict[int, float]] = {}
    for switch, rows in zip(READ, maps, strict=True):
        if rows is None:
            continue
        out[switch.item] = {_netuid(k): switch.decode(v) for k, v in rows}
    return out


def subnet_values(
    netuid: int, read: Mapping[str, Mapping[int, float]], known: Mapping[str, float | None]
) -> dict[str, float]:
    """Every switch of one subnet by storage name: the read maps (a subnet missing from one
    holds the default) and the values :mod:`exporters.economics` already knows."""
    out = {s.item: read[s.item].get(netuid, s.default) for s in READ if s.item in read}
    out.update({name: float(v) for name, v in known.items() if v is not None})
    return out


def _netuid(key: Any) -> int:
    if isinstance(key, list | tuple):
        key = key[0]
    return int(key)
