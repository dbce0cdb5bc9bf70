"""Today's chain rules and the emission tiers, read once per poll for every subnet.

Four reads per poll, whatever the number of subnets (all pinned to the poll's block):

* ``SubnetInfoRuntimeApi.get_all_dynamic_info``: every subnet's EMA ("moving") price, the
  one input of the emission ranking, which needs all subnets to rank one;
* ``query_map Yuma3On``, ``query_map SubnetEpochConsensus`` (Yuma or Null) and
  ``query_map MinNonImmuneUids``: the three per-subnet switches the metagraph does not carry.

Everything else a gauge needs (commit-reveal and its period, liquid alpha, min/max burn, the
burn itself, tempo, immunity, activity cutoff) is in the metagraph each poll reads already.

The tier rule, as the 2026 chain applies it: subnets (root excluded) are ranked by EMA price,
ties to the lower netuid; ranks 1-32 share 75% of the block's TAO, ranks 33-64 share 25%,
rank 65 and beyond get none; within a tier the split is by EMA price. A tier left empty
passes its share to the filled ones (as simnet does: the chain's code for the tier rule is not
in the sources we read, so this corner is simnet's reading, not a verified rule).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import bittensor as bt

from exporters.reads import ReadBook

# (subnets in the tier, its share of the block's TAO), best tier first.
TIERS: tuple[tuple[int, float], ...] = ((32, 0.75), (32, 0.25))
ROOT_NETUID = 0
# The runtime's default floor of non-immune uids below which immune ones may be pruned.
DEFAULT_MIN_NON_IMMUNE_UIDS = 10
I96F32_ONE = 1 << 32


@dataclass(frozen=True, slots=True)
class EmissionStanding:
    """A subnet's place in the emission ranking at the poll's block."""

    ema_price_tao: float
    rank: int  # 1 = highest EMA price
    tier: int  # 1, 2, ...; 0 = outside every tier (no emission)
    share: float  # of the block's TAO, 0..1
    # Ranks the subnet can fall before it leaves its tier (0 = on the tier's last rank);
    # None outside every tier.
    margin_ranks: int | None


@dataclass(frozen=True, slots=True)
class ChainWide:
    """What the per-poll reads say about every subnet (keys are netuids).

    Each map is None when its read failed this poll or the runtime lacks the item
    (``exporters/reads.py``); ``lacks`` names the latter (``READS`` names), whose rule the
    runtime does not apply at all.
    """

    yuma3: Mapping[int, bool] | None = field(default_factory=lambda: MappingProxyType({}))
    null_consensus: Mapping[int, bool] | None = field(default_factory=lambda: MappingProxyType({}))
    min_non_immune_uids: Mapping[int, int] | None = field(
        default_factory=lambda: MappingProxyType({})
    )
    standings: Mapping[int, EmissionStanding] = field(default_factory=lambda: MappingProxyType({}))
    lacks: frozenset[str] = frozenset()

    @property
    def ranked(self) -> int:
        return len(self.standings)


@dataclass(frozen=True, slots=True)
class SubnetRules:
    """The hyperparameters that change what a subnet's metrics mean."""

    commit_reveal: bool | None = None
    reveal_period_epochs: int | None = None
    yuma3: bool | None = None
    liquid_alpha: bool | None = None
    null_consensus: bool | None = None
    min_burn_tao: float | None = None
    max_burn_tao: float | None = None
    # None: not read this poll, or a runtime without the rule (then absent, not today's 10).
    min_non_immune_uids: int | None = DEFAULT_MIN_NON_IMMUNE_UIDS
    # The floor the eviction order applies: the rule's value; 0 on a runtime without the
    # rule (it evicts among the non-immune while any exist); the default when unread.
    pruning_floor: int = DEFAULT_MIN_NON_IMMUNE_UIDS


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _tao(value: Any) -> float | None:
    if value is None:
        return None
    return int(getattr(value, "rao", value) or 0) / 1e9


def subnet_rules(netuid: int, raw: Mapping[str, Any], wide: ChainWide | None) -> SubnetRules:
    """A subnet's rules from its metagraph record and the poll's chain-wide maps."""
    # A storage map lists only the keys written; a subnet missing from one holds the
    # runtime's default (Yuma3 off, Yuma consensus, the default floor). Without the maps
    # (no ChainWide read) the switches are unknown and their gauges absent.
    # A map that was not read (failed, or the runtime lacks it) leaves its rule absent.
    wide = wide or ChainWide(yuma3=None, null_consensus=None)

    def switch(values: Mapping[int, bool] | None) -> bool | None:
        return None if values is None else values.get(netuid, False)

    floors = wide.min_non_immune_uids
    floor = None if floors is None else floors.get(netuid, DEFAULT_MIN_NON_IMMUNE_UIDS)
    if floor is not None:
        pruning_floor = floor
    elif "min_non_immune_uids" in wide.lacks:
        pruning_floor = 0
    else:
        pruning_floor = DEFAULT_MIN_NON_IMMUNE_UIDS
    return SubnetRules(
        commit_reveal=_bool(raw.get("commit_reveal_weights_enabled")),
        reveal_period_epochs=_int(raw.get("commit_reveal_period")),
        yuma3=switch(wide.yuma3),
        liquid_alpha=_bool(raw.get("liquid_alpha_enabled")),
        null_consensus=switch(wide.null_consensus),
        min_burn_tao=_tao(raw.get("min_burn")),
        max_burn_tao=_tao(raw.get("max_burn")),
        min_non_immune_uids=floor,
        pruning_floor=pruning_floor,
    )


def price_of(value: Any) -> float:
    """An I96F32 price as the SDK decodes it (``{"bits": n}``) or an already-decoded number."""
    if isinstance(value, Mapping):
        return int(value.get("bits") or 0) / I96F32_ONE
    return float(value or 0.0)


def is_null_consensus(value: Any) -> bool:
    """``SubnetEpochConsensus`` decoded: "Yuma" / "Null", ``{"Null": None}``, or the index 1."""
    if isinstance(value, Mapping):
        return "Null" in value
    if isinstance(value, str):
        return value == "Null"
    return value == 1


def rank_subnets(prices: Mapping[int, float]) -> dict[int, EmissionStanding]:
    """Netuid -> its standing, by the tier rule above (root must not be in ``prices``)."""
    ranked = sorted(prices, key=lambda n: (-prices[n], n))
    tiers: list[tuple[list[int], float]] = []
    start = 0
    for size, share in TIERS:
        tiers.append((ranked[start : start + size], share))
        start += size
    filled = sum(share for members, share in tiers if members)
    out: dict[int, EmissionStanding] = {}
    end = 0
    rank_of = {n: i for i, n in enumerate(ranked, start=1)}
    for tier, (members, share) in enumerate(tiers, start=1):
        end += TIERS[tier - 1][0]
        total = sum(prices[n] for n in members)
        for n in members:
            within = prices[n] / total if total > 0 else 1 / len(members)
            rank = rank_of[n]
            out[n] = EmissionStanding(
                ema_price_tao=prices[n],
                rank=rank,
                tier=tier,
                share=share / filled * within if filled else 0.0,
                margin_ranks=end - rank,
            )
    for i, n in enumerate(ranked[start:], start=start + 1):
        out[n] = EmissionStanding(prices[n], i, 0, 0.0, None)
    return out


async def read_chain_wide(snap: Any, book: ReadBook) -> ChainWide:
    """The four chain-wide reads at ``snap``'s block, each failing alone (``book``), folded
    into a :class:`ChainWide`."""
    storage = bt.storage.SubtensorModule
    dynamic, yuma3, consensus, floors = await asyncio.gather(
        book.read(
            "dynamic_info",
            snap.runtime(bt.runtime_api.SubnetInfoRuntimeApi.get_all_dynamic_info, []),
        ),
        book.read("yuma3", snap.query_map(storage.Yuma3On)),
        book.read("epoch_consensus", snap.query_map(storage.SubnetEpochConsensus)),
        book.read("min_non_immune_uids", snap.query_map(storage.MinNonImmuneUids)),
    )
    lacks = frozenset(
        r for r in ("yuma3", "epoch_consensus", "min_non_immune_uids") if book.lacks(r)
    )
    return fold_chain_wide(dynamic or [], yuma3, consensus, floors, lacks=lacks)


def fold_chain_wide(
    dynamic: Sequence[Any],
    yuma3: Sequence[tuple[Any, Any]] | None,
    consensus: Sequence[tuple[Any, Any]] | None,
    floors: Sequence[tuple[Any, Any]] | None,
    *,
    lacks: frozenset[str] = frozenset(),
) -> ChainWide:
    """The reads folded; a map given as None (not read) stays None."""
    prices = {
        int(d["netuid"]): price_of(d.get("moving_price"))
        for d in dynamic
        if isinstance(d, Mapping) and int(d["netuid"]) != ROOT_NETUID
    }

    def fold(rows: Sequence[tuple[Any, Any]] | None, value: Any) -> Mapping | None:
        return None if rows is None else MappingProxyType({_key(k): value(v) for k, v in rows})

    return ChainWide(
        yuma3=fold(yuma3, bool),
        null_consensus=fold(consensus, is_null_consensus),
        min_non_immune_uids=fold(floors, int),
        standings=MappingProxyType(rank_subnets(prices)),
        lacks=lacks,
    )


def _key(key: Any) -> int:
    # A map key arrives as the bare netuid or as a one-element key tuple.
    if isinstance(key, list | tuple):
        key = key[0]
    return int(key)
