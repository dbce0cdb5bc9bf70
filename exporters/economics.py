"""Today's chain rules and the emission gate, read once per poll for every subnet.

Fourteen reads per poll, whatever the number of subnets (all pinned to the poll's block):

* ``SubnetInfoRuntimeApi.get_all_dynamic_info``: every subnet's EMA ("moving") price and
  ``tao_in_emission`` (the chain's own split of the block's TAO); a subnet's distance to the
  bar needs every subnet's price;
* ``query_map Yuma3On``, ``query_map SubnetEpochConsensus`` (Yuma or Null),
  ``query_map MinNonImmuneUids`` and ``query_map ImmuneOwnerUidsLimit`` (the pruning floor and
  the owner's immune set): per-subnet switches the metagraph does not carry;
* ``query_map SubnetEmissionEnabled`` and ``query_map MinerBurned`` (the per-subnet inputs of
  the emission split), and ``EmissionGateBar``, ``EmissionGateExponent``, ``EmissionBarRank``
  (the gate, chain-wide), and the four storage-only switches of
  :mod:`exporters.storage_switches`. A runtime without one of these items leaves its series
  absent; the other reads stand.

Everything else a gauge needs (commit-reveal and its period, liquid alpha, min/max burn, the
burn itself, tempo, immunity, activity cutoff) is in the metagraph each poll reads already.
There are no emission tiers on the chain: :mod:`exporters.emission_gate` says where a subnet
stands against the gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import bittensor as bt

from exporters.emission_gate import EmissionStanding, GateState, standings
from exporters.reads import ReadBook
from exporters.storage_switches import read_switches, subnet_values

ROOT_NETUID = 0
# The runtime's default floor of non-immune uids below which immune ones may be pruned.
DEFAULT_MIN_NON_IMMUNE_UIDS = 10
# ImmuneOwnerUidsLimit's default: how many of the owner coldkey's hotkeys no registration prunes.
DEFAULT_IMMUNE_OWNER_UIDS_LIMIT = 1
I96F32_ONE = 1 << 32


@dataclass(frozen=True, slots=True)
class ChainWide:
    """What the per-poll reads say about every subnet (keys are netuids)."""

    # Each of these three is None when its read failed this poll or the runtime lacks the
    # item (exporters/reads.py); ``lacks`` names the latter (READS names), whose rule the
    # runtime does not apply at all.
    yuma3: Mapping[int, bool] | None = field(default_factory=lambda: MappingProxyType({}))
    null_consensus: Mapping[int, bool] | None = field(default_factory=lambda: MappingProxyType({}))
    min_non_immune_uids: Mapping[int, int] | None = field(
        default_factory=lambda: MappingProxyType({})
    )
    immune_owner_uids_limit: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    standings: Mapping[int, EmissionStanding] = field(default_factory=lambda: MappingProxyType({}))
    gate: GateState = field(default_factory=GateState)
    # exporters.storage_switches: storage item -> {netuid: value} for the switches read as maps
    switches: Mapping[str, Mapping[int, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    lacks: frozenset[str] = frozenset()


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
    immune_owner_uids_limit: int = DEFAULT_IMMUNE_OWNER_UIDS_LIMIT
    # Every storage-only switch by storage name (exporters.storage_switches); empty when the
    # chain-wide maps were not read.
    settings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


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
    known = wide is not None
    # A map that was not read (failed, or the runtime lacks it) leaves its rule absent.
    wide = wide or ChainWide(yuma3=None, null_consensus=None)
    yuma3 = None if wide.yuma3 is None else wide.yuma3.get(netuid, False)
    null = None if wide.null_consensus is None else wide.null_consensus.get(netuid, False)
    floors = wide.min_non_immune_uids
    floor = None if floors is None else floors.get(netuid, DEFAULT_MIN_NON_IMMUNE_UIDS)
    if floor is not None:
        pruning_floor = floor
    elif "min_non_immune_uids" in wide.lacks:
        pruning_floor = 0
    else:
        pruning_floor = DEFAULT_MIN_NON_IMMUNE_UIDS
    owner_limit = wide.immune_owner_uids_limit.get(netuid, DEFAULT_IMMUNE_OWNER_UIDS_LIMIT)
    standing = wide.standings.get(netuid)
    settings = (
        subnet_values(
            netuid,
            wide.switches,
            {
                "Yuma3On": yuma3,
                "SubnetEpochConsensus": None if null is None else float(null),
                "SubnetEmissionEnabled": None if standing is None else standing.emission_enabled,
                "MinNonImmuneUids": floor,
                "ImmuneOwnerUidsLimit": owner_limit,
            },
        )
        if known
        else {}
    )
    return SubnetRules(
        commit_reveal=_bool(raw.get("commit_reveal_weights_enabled")),
        reveal_period_epochs=_int(raw.get("commit_reveal_period")),
        yuma3=yuma3,
        liquid_alpha=_bool(raw.get("liquid_alpha_enabled")),
        null_consensus=null,
        min_burn_tao=_tao(raw.get("min_burn")),
        max_burn_tao=_tao(raw.get("max_burn")),
        min_non_immune_uids=floor,
        pruning_floor=pruning_floor,
        immune_owner_uids_limit=owner_limit,
        settings=MappingProxyType(settings),
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


async def read_chain_wide(snap: Any, book: ReadBook) -> ChainWide:
    """The fourteen chain-wide reads at ``snap``'s block, folded into a :class:`ChainWide`;
    the dynamic info and the three rule maps each fail alone (``book``)."""
    storage = bt.storage.SubtensorModule
    (
        dynamic,
        yuma3,
        consensus,
        floors,
        owner_limits,
        enabled,
        burned,
        bar,
        exponent,
        rank,
        switches,
    ) = await asyncio.gather(
        book.read(
            "dynamic_info",
            snap.runtime(bt.runtime_api.SubnetInfoRuntimeApi.get_all_dynamic_info, []),
        ),
        book.read("yuma3", snap.query_map(storage.Yuma3On)),
        book.read("epoch_consensus", snap.query_map(storage.SubnetEpochConsensus)),
        book.read("min_non_immune_uids", snap.query_map(storage.MinNonImmuneUids)),
        # Items a runtime may not have (added after spec 440): None, and named unsupported.
        book.read("immune_owner_uids_limit", snap.query_map(storage.ImmuneOwnerUidsLimit)),
        book.read("emission_enabled", snap.query_map(storage.SubnetEmissionEnabled)),
        book.read("miner_burned", snap.query_map(storage.MinerBurned)),
        book.read("emission_gate_bar", snap.query(storage.EmissionGateBar)),
        book.read("emission_gate_exponent", snap.query(storage.EmissionGateExponent)),
        book.read("emission_bar_rank", snap.query(storage.EmissionBarRank)),
        read_switches(snap),
    )
    gate = GateState(
        bar=None if bar is None else fixed_of(bar, 64),
        exponent=None if exponent is None else fixed_of(exponent, 64),
        bar_rank=None if rank is None else int(rank),
    )
    lacks = frozenset(
        r for r in ("yuma3", "epoch_consensus", "min_non_immune_uids") if book.lacks(r)
    )
    wide = fold_chain_wide(
        dynamic or [], yuma3, consensus, floors, enabled, burned or [], gate, lacks=lacks
    )
    limits = {_key(k): int(v) for k, v in owner_limits or []}
    return replace(
        wide,
        immune_owner_uids_limit=MappingProxyType(limits),
        switches=MappingProxyType(switches),
    )


def fold_chain_wide(
    dynamic: Sequence[Any],
    yuma3: Sequence[tuple[Any, Any]] | None,
    consensus: Sequence[tuple[Any, Any]] | None,
    floors: Sequence[tuple[Any, Any]] | None,
    enabled: Sequence[tuple[Any, Any]] | None = None,
    burned: Sequence[tuple[Any, Any]] = (),
    gate: GateState | None = None,
    *,
    lacks: frozenset[str] = frozenset(),
) -> ChainWide:
    """The reads folded; a rule map given as None (not read) stays None."""
    gate = gate or GateState()
    rows = [d for d in dynamic if isinstance(d, Mapping) and int(d["netuid"]) != ROOT_NETUID]
    prices = {int(d["netuid"]): price_of(d.get("moving_price")) for d in rows}
    injected = {int(d["netuid"]): _rao(d.get("tao_in_emission")) for d in rows}
    switches = None if enabled is None else {_key(k): bool(v) for k, v in enabled}

    def fold(rows: Sequence[tuple[Any, Any]] | None, value: Any) -> Mapping | None:
        return None if rows is None else MappingProxyType({_key(k): value(v) for k, v in rows})

    return ChainWide(
        yuma3=fold(yuma3, bool),
        null_consensus=fold(consensus, is_null_consensus),
        min_non_immune_uids=fold(floors, int),
        lacks=lacks,
        standings=MappingProxyType(
            standings(
                prices,
                injected,
                {_key(k): fixed_of(v, 32) for k, v in burned},
                switches,
                gate,
            )
        ),
        gate=gate,
    )


def fixed_of(value: Any, frac_bits: int) -> float:
    """A fixed-point storage value as the SDK decodes it (``{"bits": n}``) or a number:
    ``EmissionGateBar`` and friends are U64F64 (64 fractional bits), ``MinerBurned`` U96F32."""
    if isinstance(value, Mapping):
        return int(value.get("bits") or 0) / (1 << frac_bits)
    return float(value or 0.0)


def _rao(value: Any) -> int:
    return int(getattr(value, "rao", value) or 0)


def _key(key: Any) -> int:
    # A map key arrives as the bare netuid or as a one-element key tuple.
    if isinstance(key, list | tuple):
        key = key[0]
    return int(key)
