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

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from exporters.chain import PollStatus
from exporters.snapshot import ChainSnapshot, NeuronView
from taowatch.metric_names import Exporter as N

CACHED = "Cached: read from the chain once per poll (every block by default)."

NEURON_LABELS = ["netuid", "hotkey", "uid"]

# (name, help, getter) for the plain per-neuron gauges.
_NEURON_GAUGES: list[tuple[str, str, Callable[[NeuronView], float]]] = [
    (
        N.NEURON_RANK,
        "Rank as the chain reports it, 0..1. The current runtime no longer computes rank "
        "(always 0); kept for older runtimes.",
        lambda v: v.rank,
    ),
    (
        N.NEURON_TRUST,
        "Trust as the chain reports it, 0..1. The current runtime no longer computes trust "
        "(always 0); kept for older runtimes.",
        lambda v: v.trust,
    ),
    (N.NEURON_VALIDATOR_TRUST, "Validator trust, 0..1.", lambda v: v.validator_trust),
    (N.NEURON_CONSENSUS, "Consensus, 0..1.", lambda v: v.consensus),
    (N.NEURON_INCENTIVE, "Incentive, 0..1.", lambda v: v.incentive),
    (N.NEURON_DIVIDENDS, "Dividends, 0..1.", lambda v: v.dividends),
    (
        N.NEURON_EMISSION_ALPHA,
        "Alpha emitted to the neuron by the subnet's last epoch, in alpha tokens.",
        lambda v: v.emission_alpha,
    ),
    (N.NEURON_STAKE_ALPHA, "Alpha staked on the hotkey on this subnet.", lambda v: v.stake_alpha),
    (N.NEURON_STAKE_TAO, "TAO (root) stake of the hotkey.", lambda v: v.stake_tao),
    (N.NEURON_ACTIVE, "1 if the chain counts the neuron as active, else 0.", lambda v: v.active),
    (
        N.NEURON_VALIDATOR_PERMIT,
        "1 if the neuron holds a validator permit, else 0.",
        lambda v: v.validator_permit,
    ),
    (
        N.NEURON_LAST_UPDATE_BLOCK,
        "Block of the neuron's last weight update (for a miner: its registration block).",
        lambda v: v.last_update,
    ),
    (
        N.NEURON_BLOCKS_SINCE_LAST_UPDATE,
        "Blocks between the source block and the neuron's last weight update; compare with "
        "bittensor_subnet_tempo_blocks and bittensor_subnet_activity_cutoff_blocks.",
        lambda v: v.blocks_since_last_update,
    ),
    (
        N.NEURON_REGISTRATION_BLOCK,
        "Block at which the hotkey registered into its uid.",
        lambda v: v.block_at_registration,
    ),
    (
        N.NEURON_IMMUNITY_REMAINING_BLOCKS,
        "Blocks of deregistration immunity left, from the next block (0 = can be evicted).",
        lambda v: v.immunity_remaining_blocks,
    ),
]


class SnapshotSource(Protocol):
    @property
    def snapshot(self) -> ChainSnapshot | None: ...

    @property
    def status(self) -> PollStatus: ...


def _gauge(name: str, help_: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, f"{help_} {CACHED}", labels=labels)


class ChainCollector:
    """Yields every chain and exporter series from the poller's current snapshot."""

    def __init__(self, source: SnapshotSource):
        self._source = source

    def collect(self) -> Iterator[Metric]:
        # Read both references once: the poller may swap them while we iterate.
        snapshot = self._source.snapshot
        status = self._source.status
        if snapshot is not None:
            yield from self._neurons(snapshot)
            yield from self._subnets(snapshot)
            yield from self._chain(snapshot)
        yield from self._exporter(snapshot, status)

    # -- neurons ---------------------------------------------------------------------------

    def _neurons(self, snap: ChainSnapshot) -> Iterator[Metric]:
        registered = _gauge(
            N.NEURON_REGISTERED,
            "1 if the watched hotkey holds a uid on the subnet, else 0.",
            ["netuid", "hotkey"],
        )
        deregs = CounterMetricFamily(
            N.NEURON_DEREGISTRATIONS,
            "Times the watched hotkey was seen losing its uid on the subnet (persisted across "
            "agent restarts). Counted only from successful reads.",
            labels=["netuid", "hotkey"],
        )
        exported: dict[tuple[int, int], NeuronView] = {}
        for w in snap.watched:
            key = (str(w.netuid), w.hotkey)
            registered.add_metric(key, 1.0 if w.registered else 0.0)
            deregs.add_metric(key, float(snap.deregistrations.get((w.netuid, w.hotkey), 0)))
            if w.neuron is not None:
                exported[(w.netuid, w.neuron.uid)] = w.neuron
        for netuid in sorted(snap.export_all):
            view = snap.subnets.get(netuid)
            if view is not None:
                for nv in view.neurons:
                    exported[(netuid, nv.uid)] = nv
        yield registered
        yield deregs

        neurons = [exported[k] for k in sorted(exported)]
        labels = [(str(v.netuid), v.hotkey, str(v.uid)) for v in neurons]

        uid = _gauge(
            N.NEURON_UID,
            "The uid the hotkey holds on the subnet (value = uid; coldkey is the owner).",
            ["netuid", "hotkey", "uid", "coldkey"],
        )
        for v, lab in zip(neurons, labels, strict=True):
            uid.add_metric((*lab, v.coldkey), float(v.uid))
        yield uid

        for name, help_, get in _NEURON_GAUGES:
            fam = _gauge(name, help_, NEURON_LABELS)
            for v, lab in zip(neurons, labels, strict=True):
                fam.add_metric(lab, float(get(v)))
            yield fam

        pruning = _gauge(
            N.NEURON_PRUNING_POSITION,
            "Place in the subnet's eviction order among non-immune neurons (0 = replaced by the "
            "next registration): lowest emission first, then older registration, then lower "
            "uid. Absent while the neuron is immune.",
            NEURON_LABELS,
        )
        vrank = _gauge(
            N.NEURON_VALIDATOR_TRUST_RANK,
            "Place among the subnet's validators by validator trust (0 = highest). A validator "
            "holds a permit and has set weights since registering (last update after the "
            "registration block); absent for any other neuron, e.g. a miner with a spare permit.",
            NEURON_LABELS,
        )
        axon = _gauge(
            N.NEURON_AXON_INFO,
            "The axon the neuron serves (ip and port as labels; value always 1).",
            [*NEURON_LABELS, "ip", "port"],
        )
        for v, lab in zip(neurons, labels, strict=True):
            if v.pruning_position is not None:
                pruning.add_metric(lab, float(v.pruning_position))
            if v.validator_trust_rank is not None:
                vrank.add_metric(lab, float(v.validator_trust_rank))
            if v.axon is not None:
                axon.add_metric((*lab, v.axon.ip, str(v.axon.port)), 1.0)
        yield pruning
        yield vrank
        yield axon

    # -- subnets ---------------------------------------------------------------------------

    def _subnets(self, snap: ChainSnapshot) -> Iterator[Metric]:
        views = [snap.subnets[n] for n in sorted(snap.subnets) if snap.subnets[n].exists]
        specs: list[tuple[str, str, Callable[[Any], float | None]]] = [
            (N.SUBNET_TEMPO_BLOCKS, "Blocks between epochs.", lambda s: s.tempo),
            (
                N.SUBNET_BLOCKS_SINCE_LAST_STEP,
                "Blocks since the subnet's last epoch.",
                lambda s: s.blocks_since_last_step,
            ),
            (
                N.SUBNET_IMMUNITY_PERIOD_BLOCKS,
                "Blocks a new registration is immune from eviction.",
                lambda s: s.immunity_period,
            ),
            (
                N.SUBNET_ACTIVITY_CUTOFF_BLOCKS,
                "Blocks without a weight update after which a neuron turns inactive.",
                lambda s: s.activity_cutoff,
            ),
            (
                N.SUBNET_REGISTRATION_COST_TAO,
                "TAO burned by a registration right now.",
                lambda s: s.registration_cost_tao,
            ),
            (N.SUBNET_NEURONS, "Registered neurons (uids in use).", lambda s: s.num_neurons),
            (N.SUBNET_MAX_NEURONS, "Maximum uids on the subnet.", lambda s: s.max_neurons),
            (
                N.SUBNET_ALPHA_PRICE_TAO,
                "Spot price of one alpha in TAO (pool TAO / pool alpha).",
                lambda s: s.alpha_price_tao,
            ),
            (
                N.SUBNET_REGISTRATIONS_RECENT,
                "Neurons whose registration block lies within the last window (one tempo by "
                "default): registrations are happening when this is above 0.",
                lambda s: s.registrations_recent,
            ),
            (
                N.SUBNET_VALIDATOR_TRUST_MEDIAN,
                "Median validator trust among the subnet's validators (permit holders that "
                "have set weights since registering; miners with spare permits are left out), "
                "0..1. Absent while the subnet has none.",
                lambda s: s.validator_trust_median,
            ),
        ]
        for name, help_, get in specs:
            fam = _gauge(name, help_, ["netuid"])
            for s in views:
                value = get(s)
                if value is not None:
                    fam.add_metric([str(s.netuid)], float(value))
            yield fam

    # -- chain -----------------------------------------------------------------------------

    def _chain(self, snap: ChainSnapshot) -> Iterator[Metric]:
        c = snap.chain
        yield GaugeMetricFamily(
            N.CHAIN_HEAD_BLOCK, f"Chain head block at the last successful poll. {CACHED}", c.head
        )
        if c.finalized is not None:
            yield GaugeMetricFamily(
                N.CHAIN_FINALIZED_BLOCK,
                f"Finalized block at the last successful poll. {CACHED}",
                c.finalized,
            )
        if c.block_time is not None:
            yield GaugeMetricFamily(
                N.CHAIN_BLOCK_TIME_SECONDS,
                "Target seconds per block, from the chain's runtime.",
                c.block_time,
            )
        yield GaugeMetricFamily(
            N.CHAIN_HEAD_TIMESTAMP_SECONDS,
            "Unix time at which this agent first saw the current head; it stops advancing when "
            f"the chain stalls. {CACHED}",
            c.head_advanced_at,
        )

    # -- the exporter itself ---------------------------------------------------------------

    def _exporter(self, snap: ChainSnapshot | None, st: PollStatus) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            N.EXPORTER_UP, "1 if the last poll of the chain succeeded, else 0.", 1.0 if st.up else 0
        )
        if st.last_duration is not None:
            yield GaugeMetricFamily(
                N.EXPORTER_POLL_DURATION_SECONDS, "Seconds the last poll took.", st.last_duration
            )
        if st.last_success_at is not None:
            yield GaugeMetricFamily(
                N.EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS,
                "Unix time of the last successful poll; values are as of then.",
                st.last_success_at,
            )
        if snap is not None:
            yield GaugeMetricFamily(
                N.EXPORTER_SOURCE_BLOCK,
                "Block every cached chain value was read at (the last successful poll's head).",
                snap.block,
            )
        if st.interval is not None:
            yield GaugeMetricFamily(
                N.EXPORTER_POLL_INTERVAL_SECONDS, "Configured seconds between polls.", st.interval
            )
        yield CounterMetricFamily(N.EXPORTER_POLLS, "Polls attempted.", st.polls)
        errors = CounterMetricFamily(
            N.EXPORTER_POLL_ERRORS, "Failed polls by reason.", labels=["reason"]
        )
        for reason, count in sorted(st.errors.items()):
            errors.add_metric([reason], float(count))
        yield errors
        up = GaugeMetricFamily(
            N.EXPORTER_RPC_ENDPOINT_UP,
            "1 if the endpoint answered its last head probe, else 0.",
            labels=["endpoint"],
        )
        active = GaugeMetricFamily(
            N.EXPORTER_RPC_ENDPOINT_ACTIVE,
            "1 for the endpoint the poll reads from, else 0.",
            labels=["endpoint"],
        )
        lag = GaugeMetricFamily(
            N.EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS,
            "Blocks the endpoint's head is behind the best head among the endpoints.",
            labels=["endpoint"],
        )
        for ep in st.endpoints:
            up.add_metric([ep.label], 1.0 if ep.up else 0.0)
            active.add_metric([ep.label], 1.0 if ep.active else 0.0)
            if ep.lag is not None:
                lag.add_metric([ep.label], float(ep.lag))
        yield up
        yield active
        yield lag
