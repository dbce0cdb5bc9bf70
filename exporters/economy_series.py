"""The series of today's chain rules and the emission gate, as :class:`exporters.family.Family`.

Per read subnet: the switches of :class:`SubnetRules` as 0/1 or numbers, the storage-only
settings, ``is_root``, and where the subnet stands against the emission gate; chain-wide: the
gate's bar, exponent and rank.
"""

from __future__ import annotations

from common.metric_names import Exporter as N
from common.series import Series
from exporters.family import Family, num
from exporters.snapshot import ChainSnapshot, read_subnets

# The per-subnet switches and the SubnetRules attribute each reads.
RULES: tuple[tuple[Series, str], ...] = (
    (N.SUBNET_COMMIT_REVEAL_ENABLED, "commit_reveal"),
    (N.SUBNET_REVEAL_PERIOD_EPOCHS, "reveal_period_epochs"),
    (N.SUBNET_YUMA3_ENABLED, "yuma3"),
    (N.SUBNET_LIQUID_ALPHA_ENABLED, "liquid_alpha"),
    (N.SUBNET_NULL_CONSENSUS, "null_consensus"),
    (N.SUBNET_MIN_BURN_TAO, "min_burn_tao"),
    (N.SUBNET_MAX_BURN_TAO, "max_burn_tao"),
    (N.SUBNET_MIN_NON_IMMUNE_UIDS, "min_non_immune_uids"),
    (N.SUBNET_IMMUNE_OWNER_UIDS_LIMIT, "immune_owner_uids_limit"),
)

# The emission standing of each subnet and the SubnetStanding attribute each reads.
STANDINGS: tuple[tuple[Series, str], ...] = (
    (N.SUBNET_EMA_PRICE_TAO, "ema_price_tao"),
    (N.SUBNET_TAO_IN_EMISSION_TAO, "tao_in_emission_tao"),
    (N.SUBNET_EMISSION_SHARE, "share"),
    (N.SUBNET_EMISSION_DEMAND_SHARE, "demand_share"),
    (N.SUBNET_EMISSION_GATE_WEIGHT, "gate_weight"),
    (N.SUBNET_EMISSION_BAR_RATIO, "bar_ratio"),
    (N.SUBNET_EMISSION_ENABLED, "emission_enabled"),
)

# The chain-wide gate and the EmissionGate attribute each reads; None: no family.
GATE: tuple[tuple[Series, str], ...] = (
    (N.CHAIN_EMISSION_GATE_BAR, "bar"),
    (N.CHAIN_EMISSION_GATE_EXPONENT, "exponent"),
    (N.CHAIN_EMISSION_BAR_RANK, "bar_rank"),
)


def economy_families(snap: ChainSnapshot) -> list[Family]:
    views = read_subnets(snap)
    labels = [(str(s.netuid),) for s in views]
    out = [
        Family(series, labels, [num(getattr(s.rules, attr)) for s in views])
        for series, attr in RULES
    ]
    out.append(Family(N.SUBNET_IS_ROOT, labels, [1.0 if s.is_root else 0.0 for s in views]))
    out.append(
        Family(
            N.SUBNET_REGISTRATION_COST_ALERT_TAO,
            labels,
            [num(snap.registration_cost_alert_tao.get(s.netuid)) for s in views],
        )
    )
    settings = [(s, name, v) for s in views for name, v in sorted(s.rules.settings.items())]
    out.append(
        Family(
            N.SUBNET_SETTING,
            [(str(s.netuid), name) for s, name, _v in settings],
            [v for _s, _name, v in settings],
        )
    )
    wide = snap.chain_wide
    standings = wide.standings if wide is not None else {}
    ranked = [standings.get(s.netuid) for s in views]
    out += [
        Family(series, labels, [None if st is None else num(getattr(st, attr)) for st in ranked])
        for series, attr in STANDINGS
    ]
    if wide is not None:
        for series, attr in GATE:
            value = getattr(wide.gate, attr)
            if value is not None:
                out.append(Family.single(series, value))
    return out
