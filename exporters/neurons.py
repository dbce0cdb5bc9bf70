"""The neurons area: per watched hotkey and per exported neuron, from the snapshot's subnet
reads (``exporters/snapshot.py`` builds the ``NeuronView``s the poll read).

Watched hotkeys keep ``bittensor_neuron_registered`` (0 when gone) and their deregistration
counter; every other series exists only while the neuron holds a uid, so a hotkey or uid that
left a subnet is simply absent from the next scrape.
"""

from __future__ import annotations

from operator import attrgetter

from common.metric_names import Exporter as N
from common.series import Series
from exporters.eviction import eviction_families
from exporters.family import Family, num
from exporters.snapshot import ChainSnapshot, exported_neurons

# Scores a root (netuid 0) neuron never earns: root has no miners, so these are left out
# there rather than exported as zeros an alert would read as "earning nothing".
_NOT_ON_ROOT = frozenset({"rank", "trust", "consensus", "incentive"})
# Gauges a runtime record may not carry (absent, not 0, where it does not).
_MAY_BE_ABSENT = frozenset({"stake_alpha_own"})

# The plain per-neuron gauges and the NeuronView attribute each reads.
GAUGES: tuple[tuple[Series, str], ...] = (
    (N.NEURON_RANK, "rank"),
    (N.NEURON_TRUST, "trust"),
    (N.NEURON_VALIDATOR_TRUST, "validator_trust"),
    (N.NEURON_CONSENSUS, "consensus"),
    (N.NEURON_INCENTIVE, "incentive"),
    (N.NEURON_DIVIDENDS, "dividends"),
    (N.NEURON_EMISSION_ALPHA, "emission_alpha"),
    (N.NEURON_STAKE_ALPHA, "stake_alpha"),
    (N.NEURON_STAKE_ALPHA_OWN, "stake_alpha_own"),
    (N.NEURON_STAKE_TAO, "stake_tao"),
    (N.NEURON_STAKE_WEIGHT, "stake_weight"),
    (N.NEURON_ACTIVE, "active"),
    (N.NEURON_VALIDATOR_PERMIT, "validator_permit"),
    (N.NEURON_LAST_UPDATE_BLOCK, "last_update"),
    (N.NEURON_BLOCKS_SINCE_LAST_UPDATE, "blocks_since_last_update"),
    (N.NEURON_REGISTRATION_BLOCK, "block_at_registration"),
    (N.NEURON_IMMUNITY_REMAINING_BLOCKS, "immunity_remaining_blocks"),
)


def families(snap: ChainSnapshot) -> list[Family]:
    watched = [(str(w.netuid), w.hotkey) for w in snap.watched]
    out = [
        Family(N.NEURON_REGISTERED, watched, [1.0 if w.registered else 0.0 for w in snap.watched]),
        Family(
            N.NEURON_DEREGISTRATIONS,
            watched,
            [float(snap.deregistrations.get((w.netuid, w.hotkey), 0)) for w in snap.watched],
        ),
    ]
    neurons = exported_neurons(snap)
    labels = [(str(v.netuid), v.hotkey, str(v.uid)) for v in neurons]
    out.append(
        Family(
            N.NEURON_UID,
            [(*lab, v.coldkey) for v, lab in zip(neurons, labels, strict=True)],
            [float(v.uid) for v in neurons],
        )
    )
    on_root = [v.netuid == 0 for v in neurons]
    for series, attr in GAUGES:
        # map/attrgetter: no Python-level step per neuron (a whole network: 32k).
        raw = map(attrgetter(attr), neurons)
        values: list[float | None] = (
            [None if x is None else float(x) for x in raw]
            if attr in _MAY_BE_ABSENT
            else list(map(float, raw))
        )
        if attr in _NOT_ON_ROOT and any(on_root):
            values = [None if r else v for v, r in zip(values, on_root, strict=True)]
        out.append(Family(series, labels, values))
    out.append(
        Family(N.NEURON_PRUNING_POSITION, labels, [num(v.pruning_position) for v in neurons])
    )
    out.append(
        Family(
            N.NEURON_VALIDATOR_TRUST_RANK, labels, [num(v.validator_trust_rank) for v in neurons]
        )
    )
    out += eviction_families(snap, neurons, labels)
    served = [(v, lab) for v, lab in zip(neurons, labels, strict=True) if v.axon is not None]
    out.append(
        Family(
            N.NEURON_AXON_INFO,
            [(*lab, v.axon.ip, str(v.axon.port)) for v, lab in served],  # type: ignore[union-attr]
            [1.0] * len(served),
        )
    )
    return out
