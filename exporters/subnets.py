"""The subnets area: per read subnet, and the chain's own head, finality and block time."""

from __future__ import annotations

from common.metric_names import Exporter as N
from common.series import Series
from exporters.family import Family, num
from exporters.snapshot import ChainSnapshot, read_subnets

# The per-subnet gauges and the SubnetView attribute each reads; None leaves the subnet out.
GAUGES: tuple[tuple[Series, str], ...] = (
    (N.SUBNET_TEMPO_BLOCKS, "tempo"),
    (N.SUBNET_BLOCKS_SINCE_LAST_STEP, "blocks_since_last_step"),
    (N.SUBNET_IMMUNITY_PERIOD_BLOCKS, "immunity_period"),
    (N.SUBNET_ACTIVITY_CUTOFF_BLOCKS, "activity_cutoff"),
    (N.SUBNET_REGISTRATION_COST_TAO, "registration_cost_tao"),
    (N.SUBNET_NEURONS, "num_neurons"),
    (N.SUBNET_MAX_NEURONS, "max_neurons"),
    (N.SUBNET_ALPHA_PRICE_TAO, "alpha_price_tao"),
    (N.SUBNET_REGISTRATIONS_RECENT, "registrations_recent"),
    (N.SUBNET_VALIDATOR_TRUST_MEDIAN, "validator_trust_median"),
    (N.SUBNET_VALIDATORS, "validators"),
    (N.SUBNET_VALIDATOR_WEIGHTS_AGE_MEDIAN_BLOCKS, "validator_weights_age_median_blocks"),
)


def families(snap: ChainSnapshot) -> list[Family]:
    views = read_subnets(snap)
    labels = [(str(s.netuid),) for s in views]
    return [
        Family(series, labels, [num(getattr(s, attr)) for s in views]) for series, attr in GAUGES
    ]


def chain_families(snap: ChainSnapshot) -> list[Family]:
    c = snap.chain
    out = [Family.single(N.CHAIN_HEAD_BLOCK, c.head)]
    if c.finalized is not None:
        out.append(Family.single(N.CHAIN_FINALIZED_BLOCK, c.finalized))
    if c.block_time is not None:
        out.append(Family.single(N.CHAIN_BLOCK_TIME_SECONDS, c.block_time))
    out.append(Family.single(N.CHAIN_HEAD_TIMESTAMP_SECONDS, c.head_advanced_at))
    return out
