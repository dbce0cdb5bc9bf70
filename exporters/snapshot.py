"""The immutable picture one poll takes of the chain, and how it is built from SDK reads.

A poll reads each subnet with two runtime calls pinned to one block (``neurons.all`` for the
per-neuron scores including validator trust, ``subnets.metagraph(commitments=False)`` for
registration blocks, stakes and subnet parameters) and folds them into frozen dataclasses.
The collector and the HTTP handlers only ever see a complete snapshot: the poller swaps one
reference, so a scrape never mixes two blocks.

Units: scores are ratios 0..1 (chain u16 parts / 65535), amounts are whole tokens (rao / 1e9),
blocks are block numbers or counts.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from exporters.economics import ROOT_NETUID, ChainWide, SubnetRules, subnet_rules
from exporters.eviction import positions_after_immunity

U16_MAX = 65535
RAO_PER_TOKEN = 1e9


@dataclass(frozen=True, slots=True)
class Axon:
    ip: str
    port: int


@dataclass(frozen=True, slots=True)
class NeuronView:
    """One registered neuron on one subnet at the snapshot's block."""

    netuid: int
    uid: int
    hotkey: str
    coldkey: str
    active: bool
    validator_permit: bool
    last_update: int
    block_at_registration: int
    rank: float
    trust: float
    consensus: float
    incentive: float
    dividends: float
    validator_trust: float
    emission_alpha: float
    # After childkey inheritance (the metagraph's alpha_stake): the hotkey's own stake, less
    # what it delegates to its childkeys, plus what its parents delegate to it.
    stake_alpha: float
    # Root (netuid 0) TAO stake of the hotkey, after childkey inheritance on this subnet.
    stake_tao: float
    # alpha + tao_weight * root TAO, the stake the chain's epoch weighs the hotkey by
    # (the metagraph's ``total_stake``).
    stake_weight: float
    axon: Axon | None
    immunity_remaining_blocks: int
    blocks_since_last_update: int
    # Place in the eviction order (0 = evicted by the next registration into a full subnet);
    # None for a neuron the next registrations cannot evict (see ``pruning_order``).
    pruning_position: int | None
    # Place among the subnet's validators (``acts_as_validator``) by validator trust
    # (0 = highest); None for a neuron that is not one (no permit, or never set weights).
    validator_trust_rank: int | None
    # An immune neuron's place in the eviction order were its immunity over now
    # (exporters/eviction.py); None otherwise.
    pruning_position_after_immunity: int | None = None
    # Alpha staked on the hotkey itself (its stakers' positions, before inheritance); None
    # where the runtime record lists no positions. A childkey change moves ``stake_alpha``
    # but never this.
    stake_alpha_own: float | None = None

    @property
    def immune(self) -> bool:
        return self.immunity_remaining_blocks > 0


@dataclass(frozen=True, slots=True)
class SubnetView:
    """A subnet at the snapshot's block. ``exists`` is False when the chain has no such subnet."""

    netuid: int
    block: int
    exists: bool
    tempo: int = 0
    blocks_since_last_step: int = 0
    last_step: int = 0
    immunity_period: int | None = None
    activity_cutoff: int | None = None
    registration_cost_tao: float | None = None
    max_neurons: int = 0
    alpha_price_tao: float | None = None
    registrations_recent: int = 0
    registration_window_blocks: int = 0
    validator_trust_median: float | None = None
    # Validators (as for the vtrust median) and the median of their blocks since last_update:
    # when most validators of a subnet are stale at once, the stall is the subnet's.
    validators: int = 0
    validator_weights_age_median_blocks: float | None = None
    rules: SubnetRules = field(default_factory=SubnetRules)
    # exporters.mechanisms: per mechid, each uid's incentive; empty with one mechanism.
    mechanism_incentives: tuple[tuple[float, ...], ...] = ()
    neurons: tuple[NeuronView, ...] = ()
    by_hotkey: Mapping[str, NeuronView] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def num_neurons(self) -> int:
        return len(self.neurons)

    @property
    def is_root(self) -> bool:
        """Netuid 0 holds TAO stake and root validators: no miners, incentive or eviction."""
        return self.netuid == ROOT_NETUID


@dataclass(frozen=True, slots=True)
class WatchedNeuron:
    """A (subnet, hotkey) pair the operator asked about; ``neuron`` is None when unregistered."""

    netuid: int
    hotkey: str
    source: str  # "config" or "coldkey:<ss58>"
    neuron: NeuronView | None

    @property
    def registered(self) -> bool:
        return self.neuron is not None


@dataclass(frozen=True, slots=True)
class ChainView:
    head: int
    finalized: int | None
    block_time: float | None
    # Wall-clock time (unix s) at which this agent first saw the head reach ``head``: it
    # stops moving when the chain stalls, which is what a halt alert needs.
    head_advanced_at: float
    # How ``finalized`` was obtained: "subscription" (pushed by the endpoint) or "read"
    # (a direct read because the subscription had gone quiet); None with no value.
    finalized_source: str | None = None


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """Everything one successful poll saw, all at ``chain.head``."""

    chain: ChainView
    endpoint: str
    taken_at: float
    subnets: Mapping[int, SubnetView]
    watched: tuple[WatchedNeuron, ...]
    # Subnets whose every neuron is exported (config ``export_all_neurons``).
    export_all: frozenset[int] = frozenset()
    # (netuid, hotkey) -> deregistrations seen so far (persisted across restarts).
    deregistrations: Mapping[tuple[int, str], int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Every subnet's switches and emission standing (exporters/economics.py); a map in it
    # is None when its read failed or the runtime lacks it (exporters/reads.py).
    chain_wide: ChainWide | None = None
    # netuid -> the operator's registration-cost alert threshold in TAO (agent config).
    registration_cost_alert_tao: Mapping[int, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Set ("rewound" or "changed") when the endpoint's chain is not the trusted one: the
    # snapshot then holds that endpoint's head and the last trusted poll's values.
    chain_mismatch: str | None = None
    # Chain events (``exporters.events.EventsView``) when the poller watches them.
    events: Any = None
    # The block the values were read at, when older than ``chain.head`` (kept through a
    # lagging, rewound or foreign endpoint); None when read at the head.
    values_block: int | None = None
    # ``exporters.deregistration.chain_identity`` of the trusted history the values belong to.
    chain_id: str | None = None
    # The runtime's version and upgrades (``exporters.runtime_version.RuntimeView``).
    runtime: Any = None
    # Watched validators' commits: pending, revealed, missed (exporters.reveal_watch).
    reveals: Any = None

    @property
    def block(self) -> int:
        return self.chain.head

    @property
    def source_block(self) -> int:
        """The block every chain value of this snapshot was read at."""
        return self.values_block if self.values_block is not None else self.chain.head


# --- building a SubnetView from SDK objects ------------------------------------------------


def _ratio(raw: Any) -> float:
    return int(raw or 0) / U16_MAX


def _tokens(rao: Any) -> float:
    return int(rao or 0) / RAO_PER_TOKEN


def _rao(balance: Any) -> int:
    """Raw rao of an SDK ``Balance`` (or a plain int), never via ``.tao`` (alpha raises)."""
    if balance is None:
        return 0
    rao = getattr(balance, "rao", balance)
    return int(rao or 0)


def parse_axon(info: Any) -> Axon | None:
    """The served axon from a chain ``axon_info`` record; None when nothing is served."""
    if not isinstance(info, dict):
        return None
    ip = int(info.get("ip") or 0)
    if not ip:
        return None
    try:
        if int(info.get("ip_type") or 4) == 6:
            text = str(ipaddress.IPv6Address(ip))
        else:
            text = str(ipaddress.IPv4Address(ip))
    except ipaddress.AddressValueError:
        return None
    return Axon(text, int(info.get("port") or 0))


def _optional_int(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return None if value is None else int(value)


def pruning_order(
    rows: Sequence[tuple[int, int, int, bool]], min_non_immune_uids: int
) -> dict[int, int]:
    """Eviction order, by the chain's ``get_neuron_to_prune``.

    ``rows`` are ``(uid, emission_rao, block_at_registration, immune)`` for every neuron
    except the owner-immune ones (never candidates). While more than
    ``min_non_immune_uids`` non-immune neurons exist the next registration evicts among
    them; otherwise among the immune ones (and with none immune, nobody goes). Within that
    pool: lowest emission first, then the older registration, then the lower uid. The result
    maps uid to its position (0 = replaced by the next registration); neurons outside the
    pool have none, because the next registration cannot evict them.
    """
    free = [r for r in rows if not r[3]]
    pool = free if len(free) > min_non_immune_uids else [r for r in rows if r[3]]
    ordered = sorted(pool, key=lambda r: (r[1], r[2], r[0]))
    return {r[0]: pos for pos, r in enumerate(ordered)}


def own_stake(positions: Any) -> float | None:
    """The neuron record's ``stake``: (coldkey, amount) per staker on the hotkey itself."""
    if positions is None:
        return None
    try:
        return sum(_tokens(_rao(amount)) for _coldkey, amount in positions)
    except (TypeError, ValueError):
        return None


def immune_owner_hotkeys(
    owner_coldkey: str,
    owner_hotkey: str,
    rows: Sequence[tuple[int, str, str, int]],
    limit: int,
) -> frozenset[str]:
    """The owner's hotkeys no registration prunes, as subtensor's ``get_immune_owner_tuples``
    picks them: the owner coldkey's registered hotkeys by registration block then uid, the
    first ``limit`` (``ImmuneOwnerUidsLimit``), with ``SubnetOwnerHotkey`` put in front and
    the list cut back to the limit. ``rows`` are ``(uid, hotkey, coldkey, registered_at)``."""
    owned = sorted((r for r in rows if r[2] == owner_coldkey), key=lambda r: (r[3], r[0]))
    chosen = [r[1] for r in owned[:limit]]
    if owner_hotkey in {r[1] for r in rows} and owner_hotkey not in chosen:
        chosen = [owner_hotkey, *chosen][:limit]
    return frozenset(chosen)


def acts_as_validator(validator_permit: bool, last_update: int, registered_at: int) -> bool:
    """Whether a neuron counts as a validator for peer comparisons.

    A permit alone is not enough: on a subnet with fewer neurons than validator slots every
    miner holds a spare permit with validator trust 0, which would drag the peer median to
    0. A validator is a permit holder that has set weights since it registered (the chain
    sets ``last_update`` to the registration block, and only a weight update moves it on).
    This is the chain half of the alerts' ``neuron:bittensor_neuron_is_validator:bool``
    (alerts/rules/neuron.rules.yaml), which also counts taowatch's validator runtime.
    """
    return validator_permit and last_update > registered_at


def build_subnet(
    netuid: int,
    block: int,
    neurons: Sequence[Any],
    metagraph: Any | None,
    *,
    registration_window_blocks: int | None = None,
    chain_wide: ChainWide | None = None,
) -> SubnetView:
    """Fold ``neurons.all`` and ``subnets.metagraph`` (both read at ``block``) into a view.

    ``registration_window_blocks`` is how far back ``registrations_recent`` looks; by
    default one tempo.
    """
    if metagraph is None:
        return SubnetView(netuid=netuid, block=block, exists=False)
    raw = metagraph.raw or {}
    immunity_period = _optional_int(raw, "immunity_period")
    activity_cutoff = _optional_int(raw, "activity_cutoff")
    burn = raw.get("burn")
    tempo = int(metagraph.tempo)
    window = registration_window_blocks if registration_window_blocks else max(tempo, 1)

    mg_by_uid = {n.uid: n for n in metagraph.neurons}
    rows = []
    for n in neurons:
        mg_n = mg_by_uid.get(n.uid)
        if mg_n is not None and mg_n.hotkey != n.hotkey:
            # Both reads are pinned to one block, so this cannot happen on a sane chain;
            # prefer the runtime record and lose only the metagraph-only columns.
            mg_n = None
        rows.append((n, mg_n))

    def reg_block(mg_n: Any) -> int:
        return int(mg_n.block_at_registration) if mg_n is not None else 0

    def immunity_left(mg_n: Any) -> int:
        # Counted from the next block, the first one a registration could land in: the
        # chain treats a neuron as immune while ``block - registered_at < immunity_period``.
        if immunity_period is None or mg_n is None:
            return 0
        return max(0, reg_block(mg_n) + immunity_period - (block + 1))

    rules = subnet_rules(netuid, raw, chain_wide)
    # The owner's immune hotkeys are never evicted, whatever their age.
    owner_immune = immune_owner_hotkeys(
        str(raw.get("owner_coldkey") or getattr(metagraph, "owner_coldkey", "") or ""),
        str(metagraph.owner_hotkey or ""),
        [(n.uid, n.hotkey, n.coldkey, reg_block(m)) for n, m in rows],
        rules.immune_owner_uids_limit,
    )
    # Root has no registrations to evict by: no positions there.
    candidates = (
        []
        if netuid == ROOT_NETUID
        else [
            (n.uid, int(n.raw.get("emission") or 0), reg_block(m), immunity_left(m) > 0)
            for n, m in rows
            if n.hotkey not in owner_immune
        ]
    )
    positions = pruning_order(candidates, rules.pruning_floor)
    after_immunity = positions_after_immunity(candidates, rules.pruning_floor, pruning_order)

    validators = sorted(
        (
            (int(n.raw.get("validator_trust") or 0), n.uid)
            for n, m in rows
            if acts_as_validator(bool(n.validator_permit), int(n.last_update), reg_block(m))
        ),
        key=lambda v: (-v[0], v[1]),
    )
    vtrust_rank = {uid: pos for pos, (_, uid) in enumerate(validators)}
    vtrust_median = statistics.median(v / U16_MAX for v, _ in validators) if validators else None
    validator_uids = {uid for _, uid in validators}
    ages = [block - int(n.last_update) for n, _m in rows if n.uid in validator_uids]

    views = []
    for n, m in rows:
        r = n.raw
        views.append(
            NeuronView(
                netuid=netuid,
                uid=n.uid,
                hotkey=n.hotkey,
                coldkey=n.coldkey,
                active=bool(n.active),
                validator_permit=bool(n.validator_permit),
                last_update=int(n.last_update),
                block_at_registration=reg_block(m),
                rank=_ratio(r.get("rank")),
                trust=_ratio(r.get("trust")),
                consensus=_ratio(r.get("consensus")),
                incentive=_ratio(r.get("incentive")),
                dividends=_ratio(r.get("dividends")),
                validator_trust=_ratio(r.get("validator_trust")),
                emission_alpha=_tokens(r.get("emission")),
                stake_alpha=(
                    _tokens(_rao(m.alpha_stake)) if m is not None else _tokens(_rao(n.total_stake))
                ),
                stake_tao=_tokens(_rao(m.tao_stake)) if m is not None else 0.0,
                stake_weight=(
                    _tokens(_rao(m.total_stake)) if m is not None else _tokens(_rao(n.total_stake))
                ),
                axon=parse_axon(r.get("axon_info")),
                immunity_remaining_blocks=immunity_left(m),
                blocks_since_last_update=max(0, block - int(n.last_update)),
                pruning_position=positions.get(n.uid),
                validator_trust_rank=vtrust_rank.get(n.uid),
                pruning_position_after_immunity=after_immunity.get(n.uid),
                stake_alpha_own=own_stake(r.get("stake")),
            )
        )
    views.sort(key=lambda v: v.uid)
    registrations_recent = sum(
        1 for v in views if v.block_at_registration and block - v.block_at_registration < window
    )
    return SubnetView(
        netuid=netuid,
        block=block,
        exists=True,
        tempo=tempo,
        blocks_since_last_step=int(metagraph.blocks_since_last_step),
        last_step=int(metagraph.last_step),
        immunity_period=immunity_period,
        activity_cutoff=activity_cutoff,
        registration_cost_tao=None if burn is None else _tokens(burn),
        max_neurons=int(metagraph.max_uids or 0),
        alpha_price_tao=None if metagraph.price is None else float(metagraph.price),
        registrations_recent=registrations_recent,
        registration_window_blocks=window,
        validator_trust_median=vtrust_median,
        validators=len(validators),
        validator_weights_age_median_blocks=float(statistics.median(ages)) if ages else None,
        rules=rules,
        neurons=tuple(views),
        by_hotkey=MappingProxyType({v.hotkey: v for v in views}),
    )


def exported_neurons(snap: ChainSnapshot) -> list[NeuronView]:
    """The watched neurons that hold a uid, plus every neuron of ``export_all`` subnets,
    by (netuid, uid)."""
    exported: dict[tuple[int, int], NeuronView] = {}
    for w in snap.watched:
        if w.neuron is not None:
            exported[(w.netuid, w.neuron.uid)] = w.neuron
    for netuid in sorted(snap.export_all):
        view = snap.subnets.get(netuid)
        if view is not None:
            for nv in view.neurons:
                exported[(netuid, nv.uid)] = nv
    return [exported[k] for k in sorted(exported)]


def read_subnets(snap: ChainSnapshot) -> list[SubnetView]:
    """The subnets the poll read that exist, by netuid."""
    return [snap.subnets[n] for n in sorted(snap.subnets) if snap.subnets[n].exists]
