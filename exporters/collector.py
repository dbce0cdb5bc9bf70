"""Prometheus collector over the poller's current snapshot.

Each ``collect()`` yields fresh metric families built from one immutable snapshot (whatever
reference the poller holds at that instant), so a scrape never mixes two blocks, and a
hotkey or uid that left a subnet is simply absent from the next scrape: no stale series, no
expiry machinery. Watched hotkeys keep ``bittensor_neuron_registered`` (0 when gone) and their
deregistration counter.

Example exposition (one watched hotkey on subnet 1)::

    # HELP bittensor_neuron_registered 1 if the watched hotkey holds a uid on the subnet ...
    # TYPE bittensor_neuron_registered gauge
    bittensor_neuron_registered{hotkey="5F...",netuid="1"} 1.0
    bittensor_neuron_incentive{hotkey="5F...",netuid="1",uid="3"} 0.61
    bittensor_subnet_tempo_blocks{netuid="1"} 360.0
    bittensor_chain_head_block 1000.0
    bittensor_exporter_up 1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Protocol

from prometheus_client.core import Metric

from common.metric_names import Exporter as N
from exporters.chain import PollStatus
from exporters.economy_series import economy_families
from exporters.eviction import eviction_families
from exporters.family import Family, cached
from exporters.mechanisms import mechanism_family
from exporters.reads import read_families
from exporters.reveal_watch import reveal_families
from exporters.runtime_version import runtime_families
from exporters.snapshot import ChainSnapshot, NeuronView

NEURON_LABELS = ("netuid", "hotkey", "uid")

_NO_LABELS: tuple[tuple[str, ...], ...] = ((),)


def _single(name: str, help_: str, value: float, kind: str = "gauge") -> Family:
    return Family(name, kind, help_, (), _NO_LABELS, (float(value),))


# Scores a root (netuid 0) neuron never earns: root has no miners, so these are left out
# there rather than exported as zeros an alert would read as "earning nothing".
_NOT_ON_ROOT = frozenset({"rank", "trust", "consensus", "incentive"})
# Gauges a runtime record may not carry (absent, not 0, where it does not).
_MAY_BE_ABSENT = frozenset({"stake_alpha_own"})

# (name, help, NeuronView attribute) for the plain per-neuron gauges.
_NEURON_GAUGES: tuple[tuple[str, str, str], ...] = (
    (
        N.NEURON_RANK,
        "Rank as the chain reports it, 0..1. The current runtime no longer computes rank "
        "(always 0); kept for older runtimes.",
        "rank",
    ),
    (
        N.NEURON_TRUST,
        "Trust as the chain reports it, 0..1. The current runtime no longer computes trust "
        "(always 0); kept for older runtimes.",
        "trust",
    ),
    (N.NEURON_VALIDATOR_TRUST, "Validator trust, 0..1.", "validator_trust"),
    (N.NEURON_CONSENSUS, "Consensus, 0..1.", "consensus"),
    (N.NEURON_INCENTIVE, "Incentive, 0..1.", "incentive"),
    (N.NEURON_DIVIDENDS, "Dividends, 0..1.", "dividends"),
    (
        N.NEURON_EMISSION_ALPHA,
        "Alpha emitted to the neuron by the subnet's last epoch, in alpha tokens.",
        "emission_alpha",
    ),
    (
        N.NEURON_STAKE_ALPHA,
        "Alpha stake of the hotkey on this subnet after childkey inheritance (the metagraph's "
        "alpha_stake): its own stake, less what it delegates to its childkeys, plus what its "
        "parents delegate to it. A childkey change moves it with no stake leaving; compare "
        "bittensor_neuron_stake_alpha_own.",
        "stake_alpha",
    ),
    (
        N.NEURON_STAKE_ALPHA_OWN,
        "Alpha staked on the hotkey itself by its stakers (before childkey inheritance); it "
        "falls only when stake leaves.",
        "stake_alpha_own",
    ),
    (
        N.NEURON_STAKE_TAO,
        "Root (netuid 0) TAO stake of the hotkey after childkey inheritance on this subnet "
        "(the metagraph's tao_stake).",
        "stake_tao",
    ),
    (
        N.NEURON_STAKE_WEIGHT,
        "Stake the chain's epoch weighs the hotkey by on this subnet: alpha stake + "
        "tao_weight x root TAO stake (the metagraph's total_stake).",
        "stake_weight",
    ),
    (N.NEURON_ACTIVE, "1 if the chain counts the neuron as active, else 0.", "active"),
    (
        N.NEURON_VALIDATOR_PERMIT,
        "1 if the neuron holds a validator permit, else 0.",
        "validator_permit",
    ),
    (
        N.NEURON_LAST_UPDATE_BLOCK,
        "Block of the neuron's last weight update (for a miner: its registration block).",
        "last_update",
    ),
    (
        N.NEURON_BLOCKS_SINCE_LAST_UPDATE,
        "Blocks between the source block and the neuron's last weight update; compare with "
        "bittensor_subnet_tempo_blocks and bittensor_subnet_activity_cutoff_blocks.",
        "blocks_since_last_update",
    ),
    (
        N.NEURON_REGISTRATION_BLOCK,
        "Block at which the hotkey registered into its uid.",
        "block_at_registration",
    ),
    (
        N.NEURON_IMMUNITY_REMAINING_BLOCKS,
        "Blocks of deregistration immunity left, from the next block (0 = can be evicted).",
        "immunity_remaining_blocks",
    ),
)


class SnapshotSource(Protocol):
    @property
    def snapshot(self) -> ChainSnapshot | None: ...

    @property
    def status(self) -> PollStatus: ...


def _f(value: float | None) -> float | None:
    return None if value is None else float(value)


class ChainCollector:
    """Yields every chain and exporter series from the poller's current snapshot.

    :meth:`families` is the single description of what is exported; :meth:`collect` (the
    prometheus-client collector protocol) and ``exporters.exposition`` (the fast text
    formatter ``/metrics`` uses) both render it, and a test holds them byte-identical.
    """

    def __init__(self, source: SnapshotSource):
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for family in self.families():
            yield family.to_metric()

    def families(self) -> list[Family]:
        snapshot, status = self.read()
        return self.snapshot_families(snapshot) + self.status_families(snapshot, status)

    def read(self) -> tuple[ChainSnapshot | None, PollStatus]:
        """Both references, read once: the poller may swap them while a render iterates."""
        return self._source.snapshot, self._source.status

    @staticmethod
    def snapshot_families(snapshot: ChainSnapshot | None) -> list[Family]:
        """The families that depend on the snapshot alone (all but the exporter's own), in
        exposition order: the same for every render of one snapshot, so they can be
        rendered once per poll."""
        if snapshot is None:
            return []
        # Local: exporters.event_families builds on this module's Family.
        from exporters.event_families import event_families

        return (
            _neurons(snapshot)
            + _subnets(snapshot)
            + economy_families(snapshot)
            + _chain(snapshot)
            + event_families(snapshot)
            + runtime_families(snapshot.runtime)
            + reveal_families(snapshot.reveals)
        )

    @staticmethod
    def status_families(snapshot: ChainSnapshot | None, status: PollStatus) -> list[Family]:
        """The exporter's own families, which follow the snapshot's in the exposition."""
        return _exporter(snapshot, status) + read_families(status.reads)


# -- neurons -------------------------------------------------------------------------------


def _neurons(snap: ChainSnapshot) -> list[Family]:
    watch_labels = ("netuid", "hotkey")
    watched = [(str(w.netuid), w.hotkey) for w in snap.watched]
    out = [
        Family(
            N.NEURON_REGISTERED,
            "gauge",
            cached("1 if the watched hotkey holds a uid on the subnet, else 0."),
            watch_labels,
            watched,
            [1.0 if w.registered else 0.0 for w in snap.watched],
        ),
        Family(
            N.NEURON_DEREGISTRATIONS,
            "counter",
            cached(
                "Times the watched hotkey was seen losing its uid on the subnet (persisted "
                "across agent restarts). Counted only from successful reads."
            ),
            watch_labels,
            watched,
            [float(snap.deregistrations.get((w.netuid, w.hotkey), 0)) for w in snap.watched],
        ),
    ]
    exported: dict[tuple[int, int], NeuronView] = {}
    for w in snap.watched:
        if w.neuron is not None:
            exported[(w.netuid, w.neuron.uid)] = w.neuron
    for netuid in sorted(snap.export_all):
        view = snap.subnets.get(netuid)
        if view is not None:
            for nv in view.neurons:
                exported[(netuid, nv.uid)] = nv
    neurons = [exported[k] for k in sorted(exported)]
    labels = [(str(v.netuid), v.hotkey, str(v.uid)) for v in neurons]

    out.append(
        Family(
            N.NEURON_UID,
            "gauge",
            cached("The uid the hotkey holds on the subnet (value = uid; coldkey is the owner)."),
            (*NEURON_LABELS, "coldkey"),
            [(*lab, v.coldkey) for v, lab in zip(neurons, labels, strict=True)],
            [float(v.uid) for v in neurons],
        )
    )
    on_root = [v.netuid == 0 for v in neurons]
    for name, help_, attr in _NEURON_GAUGES:
        # map/attrgetter: no Python-level step per neuron (a whole network: 32k).
        raw = map(attrgetter(attr), neurons)
        values: list[float | None] = (
            [None if x is None else float(x) for x in raw]
            if attr in _MAY_BE_ABSENT
            else list(map(float, raw))
        )
        if attr in _NOT_ON_ROOT and any(on_root):
            values = [None if r else v for v, r in zip(values, on_root, strict=True)]
        out.append(Family(name, "gauge", cached(help_), NEURON_LABELS, labels, values))
    out.append(
        Family(
            N.NEURON_PRUNING_POSITION,
            "gauge",
            cached(
                "Place in the subnet's eviction order, by the chain's pruning rule (0 = replaced "
                "by the next registration into a full subnet): lowest emission first, then "
                "older registration, then lower uid, among the non-immune neurons while more "
                "than min_non_immune_uids remain, else among the immune ones. Absent for the "
                "owner's hotkey, on root, and for a neuron outside that pool."
            ),
            NEURON_LABELS,
            labels,
            [_f(v.pruning_position) for v in neurons],
        )
    )
    out.append(
        Family(
            N.NEURON_VALIDATOR_TRUST_RANK,
            "gauge",
            cached(
                "Place among the subnet's validators by validator trust (0 = highest). A "
                "validator holds a permit and has set weights since registering (last update "
                "after the registration block); absent for any other neuron, e.g. a miner "
                "with a spare permit."
            ),
            NEURON_LABELS,
            labels,
            [_f(v.validator_trust_rank) for v in neurons],
        )
    )
    served = [(v, lab) for v, lab in zip(neurons, labels, strict=True) if v.axon is not None]
    out.append(
        Family(
            N.NEURON_AXON_INFO,
            "gauge",
            cached("The axon the neuron serves (ip and port as labels; value always 1)."),
            (*NEURON_LABELS, "ip", "port"),
            [(*lab, v.axon.ip, str(v.axon.port)) for v, lab in served],  # type: ignore[union-attr]
            [1.0] * len(served),
        )
    )
    out += eviction_families(snap, neurons, (NEURON_LABELS, labels))
    mechanisms = mechanism_family(snap, neurons)
    if mechanisms.values:  # single-mechanism subnets: no family at all
        out.append(mechanisms)
    return out


# -- subnets -------------------------------------------------------------------------------

# (name, help, SubnetView attribute); None values leave the subnet out of the family.
_SUBNET_GAUGES: tuple[tuple[str, str, str], ...] = (
    (N.SUBNET_TEMPO_BLOCKS, "Blocks between epochs.", "tempo"),
    (
        N.SUBNET_BLOCKS_SINCE_LAST_STEP,
        "Blocks since the subnet's last epoch.",
        "blocks_since_last_step",
    ),
    (
        N.SUBNET_IMMUNITY_PERIOD_BLOCKS,
        "Blocks a new registration is immune from eviction.",
        "immunity_period",
    ),
    (
        N.SUBNET_ACTIVITY_CUTOFF_BLOCKS,
        "Blocks without a weight update after which a neuron turns inactive.",
        "activity_cutoff",
    ),
    (
        N.SUBNET_REGISTRATION_COST_TAO,
        "TAO burned by a registration right now.",
        "registration_cost_tao",
    ),
    (N.SUBNET_NEURONS, "Registered neurons (uids in use).", "num_neurons"),
    (N.SUBNET_MAX_NEURONS, "Maximum uids on the subnet.", "max_neurons"),
    (
        N.SUBNET_ALPHA_PRICE_TAO,
        "Spot price of one alpha in TAO (pool TAO / pool alpha).",
        "alpha_price_tao",
    ),
    (
        N.SUBNET_REGISTRATIONS_RECENT,
        "Neurons whose registration block lies within the last window (one tempo by "
        "default): registrations are happening when this is above 0.",
        "registrations_recent",
    ),
    (
        N.SUBNET_VALIDATOR_TRUST_MEDIAN,
        "Median validator trust among the subnet's validators (permit holders that have set "
        "weights since registering; miners with spare permits are left out), 0..1. Absent "
        "while the subnet has none.",
        "validator_trust_median",
    ),
    (
        N.SUBNET_VALIDATORS,
        "Validators on the subnet: permit holders that have set weights since registering.",
        "validators",
    ),
    (
        N.SUBNET_VALIDATOR_WEIGHTS_AGE_MEDIAN_BLOCKS,
        "Median blocks since the subnet's validators last set weights: high when most of "
        "them are stale at once (a stall of the chain or the subnet, not of one validator). "
        "Absent while the subnet has none.",
        "validator_weights_age_median_blocks",
    ),
)


def _subnets(snap: ChainSnapshot) -> list[Family]:
    views = [snap.subnets[n] for n in sorted(snap.subnets) if snap.subnets[n].exists]
    labels = [(str(s.netuid),) for s in views]
    return [
        Family(
            name,
            "gauge",
            cached(help_),
            ("netuid",),
            labels,
            [_f(getattr(s, attr)) for s in views],
        )
        for name, help_, attr in _SUBNET_GAUGES
    ]


# -- chain ---------------------------------------------------------------------------------


def _chain(snap: ChainSnapshot) -> list[Family]:
    c = snap.chain
    out = [
        _single(N.CHAIN_HEAD_BLOCK, cached("Chain head block at the last successful poll."), c.head)
    ]
    if c.finalized is not None:
        out.append(
            _single(
                N.CHAIN_FINALIZED_BLOCK,
                "Finalized block at the last successful poll, as pushed by the endpoint's "
                "finalized-heads subscription (chain_subscribeFinalizedHeads), not read per "
                "poll; while that subscription has delivered nothing for "
                "poll.finality_stale_blocks block times (default 5; hung or reconnecting) each "
                "poll reads it directly instead. Absent until known.",
                c.finalized,
            )
        )
    if c.block_time is not None:
        out.append(
            _single(
                N.CHAIN_BLOCK_TIME_SECONDS,
                "Target seconds per block, from the chain's runtime. Cached: read once per "
                "connection to an endpoint.",
                c.block_time,
            )
        )
    out.append(
        _single(
            N.CHAIN_HEAD_TIMESTAMP_SECONDS,
            cached(
                "Unix time at which this agent first saw the current head; it stops advancing "
                "when the chain stalls."
            ),
            c.head_advanced_at,
        )
    )
    return out


# -- the exporter itself -------------------------------------------------------------------


def _exporter(snap: ChainSnapshot | None, st: PollStatus) -> list[Family]:
    out = [_single(N.EXPORTER_UP, "1 if the last poll of the chain succeeded, else 0.", st.up)]
    if st.last_duration is not None:
        out.append(
            _single(
                N.EXPORTER_POLL_DURATION_SECONDS, "Seconds the last poll took.", st.last_duration
            )
        )
    if st.last_success_at is not None:
        out.append(
            _single(
                N.EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS,
                "Unix time of the last successful poll; values are as of then.",
                st.last_success_at,
            )
        )
    if snap is not None:
        out.append(
            _single(
                N.EXPORTER_SOURCE_BLOCK,
                "Block every cached chain value was read at: the last trusted poll's head "
                "(older than bittensor_chain_head_block while the endpoint lags, is rewound or "
                "serves another chain).",
                snap.source_block,
            )
        )
        if snap.chain_id is not None:
            out.append(
                Family(
                    N.EXPORTER_TRUSTED_CHAIN_INFO,
                    "gauge",
                    "The trusted chain's history the values belong to (label chain: its genesis "
                    "hash, short, @ the block first trusted); a new one after an adoption "
                    "(taowatch agent --adopt-chain). Value always 1.",
                    ("chain",),
                    ((snap.chain_id,),),
                    (1.0,),
                )
            )
    if st.interval is not None:
        out.append(
            _single(
                N.EXPORTER_POLL_INTERVAL_SECONDS, "Configured seconds between polls.", st.interval
            )
        )
    out.append(_single(N.EXPORTER_POLLS, "Polls attempted.", st.polls, kind="counter"))
    reasons = sorted(st.errors.items())
    out.append(
        Family(
            N.EXPORTER_POLL_ERRORS,
            "counter",
            "Failed polls by reason.",
            ("reason",),
            [(r,) for r, _ in reasons],
            [float(n) for _, n in reasons],
        )
    )
    endpoints = [(ep.label,) for ep in st.endpoints]
    out += [
        Family(
            N.EXPORTER_RPC_ENDPOINT_UP,
            "gauge",
            "1 if the endpoint answered its last head probe, else 0.",
            ("endpoint",),
            endpoints,
            [1.0 if ep.up else 0.0 for ep in st.endpoints],
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_ACTIVE,
            "gauge",
            "1 for the endpoint the poll reads from, else 0.",
            ("endpoint",),
            endpoints,
            [1.0 if ep.active else 0.0 for ep in st.endpoints],
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS,
            "gauge",
            "Blocks the endpoint's head is behind the best head among the endpoints.",
            ("endpoint",),
            endpoints,
            [_f(ep.lag) for ep in st.endpoints],
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_PROBES,
            "counter",
            "Head probes sent to the endpoint (one per poll).",
            ("endpoint",),
            endpoints,
            [float(ep.probes) for ep in st.endpoints],
        ),
    ]
    errors = [(ep.label, r, n) for ep in st.endpoints for r, n in ep.errors_by_reason]
    out.append(
        Family(
            N.EXPORTER_RPC_ENDPOINT_ERRORS,
            "counter",
            "Failed probes and reads on the endpoint by reason; divided by the probes, the "
            "share of polls the endpoint failed.",
            ("endpoint", "reason"),
            [(e, r) for e, r, _ in errors],
            [float(n) for _, _, n in errors],
        )
    )
    kinds = sorted(st.chain_mismatches.items())
    out.append(
        Family(
            N.EXPORTER_CHAIN_MISMATCH,
            "gauge",
            "1 while the active endpoint is rewound (kind rewound: far behind, or another block "
            "at the trusted height) or serves another chain (kind changed: another genesis "
            "hash): neuron and subnet series keep their last trusted values and no "
            "deregistration is counted until it matches again.",
            ("kind",),
            [(k,) for k, _ in kinds],
            [1.0 if st.chain_mismatch == k else 0.0 for k, _ in kinds],
        )
    )
    out.append(
        Family(
            N.EXPORTER_CHAIN_MISMATCHES,
            "counter",
            "Times the active endpoint was found rewound or on another chain, by kind.",
            ("kind",),
            [(k,) for k, _ in kinds],
            [float(n) for _, n in kinds],
        )
    )
    index, count = st.shard
    out.append(
        Family(
            N.EXPORTER_SHARDS,
            "gauge",
            "Agents the watched subnets are split over; this one reads netuid n when "
            "n % count equals its shard_index (1 and 0 when one agent reads them all).",
            ("shard_index",),
            ((str(index),),),
            (float(count),),
        )
    )
    return out
