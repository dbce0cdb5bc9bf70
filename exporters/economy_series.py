"""The series of today's chain rules and emission tiers, as :class:`exporters.family.Family`.

Per read subnet: the switches of :class:`SubnetRules` as 0/1 or numbers, ``is_root``, and
the emission standing; chain-wide: how many subnets are ranked.
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
)

# The emission standing of each subnet and the SubnetStanding attribute each reads.
STANDINGS: tuple[tuple[Series, str], ...] = (
    (N.SUBNET_EMA_PRICE_TAO, "ema_price_tao"),
    (N.SUBNET_EMISSION_RANK, "rank"),
    (N.SUBNET_EMISSION_TIER, "tier"),
    (N.SUBNET_EMISSION_SHARE, "share"),
    (N.SUBNET_EMISSION_TIER_MARGIN_RANKS, "margin_ranks"),
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
    wide = snap.chain_wide
    standings = wide.standings if wide is not None else {}
    ranked = [standings.get(s.netuid) for s in views]
    out += [
        Family(series, labels, [None if st is None else num(getattr(st, attr)) for st in ranked])
        for series, attr in STANDINGS
    ]
    if wide is not None:
        out.append(Family.single(N.CHAIN_SUBNETS_RANKED, wide.ranked))
    return out
