"""The series of today's chain rules and emission tiers, as :class:`exporters.family.Family`.

Per read subnet: the switches of :class:`SubnetRules` as 0/1 or numbers, ``is_root``, and
the emission standing; chain-wide: how many subnets are ranked.
"""

from __future__ import annotations

from typing import Any

from common.metric_names import Exporter as N
from exporters.family import CACHED, Family
from exporters.snapshot import ChainSnapshot, SubnetView


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


# (name, help, SubnetRules attribute).
_RULES: tuple[tuple[str, str, str], ...] = (
    (
        N.SUBNET_COMMIT_REVEAL_ENABLED,
        "1 if weights are committed (timelocked) and revealed later, else 0.",
        "commit_reveal",
    ),
    (
        N.SUBNET_REVEAL_PERIOD_EPOCHS,
        "Epochs between a weight commit and its reveal (meaningful with commit-reveal on).",
        "reveal_period_epochs",
    ),
    (N.SUBNET_YUMA3_ENABLED, "1 if the epoch runs the Yuma3 branch, else 0.", "yuma3"),
    (
        N.SUBNET_LIQUID_ALPHA_ENABLED,
        "1 if liquid alpha is on (it acts only in the Yuma3 branch), else 0.",
        "liquid_alpha",
    ),
    (
        N.SUBNET_NULL_CONSENSUS,
        "1 if the subnet runs null consensus (miners paid equally, no weights and no epoch "
        "scores: weight and validator-trust signals mean nothing there), else 0.",
        "null_consensus",
    ),
    (N.SUBNET_MIN_BURN_TAO, "Lowest registration burn the chain allows, TAO.", "min_burn_tao"),
    (N.SUBNET_MAX_BURN_TAO, "Highest registration burn the chain allows, TAO.", "max_burn_tao"),
    (
        N.SUBNET_MIN_NON_IMMUNE_UIDS,
        "Non-immune neurons the chain keeps before it evicts an immune one.",
        "min_non_immune_uids",
    ),
)


def economy_families(snap: ChainSnapshot) -> list[Family]:
    views: list[SubnetView] = [
        snap.subnets[n] for n in sorted(snap.subnets) if snap.subnets[n].exists
    ]
    labels = [(str(s.netuid),) for s in views]
    out: list[Family] = [
        Family(
            name,
            "gauge",
            f"{help_} {CACHED}",
            ("netuid",),
            labels,
            [_num(getattr(s.rules, attr)) for s in views],
        )
        for name, help_, attr in _RULES
    ]
    out.append(
        Family(
            N.SUBNET_IS_ROOT,
            "gauge",
            f"1 for the root subnet (netuid 0: TAO stake and root validators, no miners), "
            f"else 0. {CACHED}",
            ("netuid",),
            labels,
            [1.0 if s.is_root else 0.0 for s in views],
        )
    )
    out.append(
        Family(
            N.SUBNET_REGISTRATION_COST_ALERT_TAO,
            "gauge",
            "Registration cost (TAO) above which the operator wants a warning, from the "
            "agent config (registration_cost_alert_tao); absent where none is set. Cached: "
            "read from the agent config, exported with each poll's snapshot.",
            ("netuid",),
            labels,
            [_num(snap.registration_cost_alert_tao.get(s.netuid)) for s in views],
        )
    )
    wide = snap.chain_wide
    standings = wide.standings if wide is not None else {}
    ranked = [(s, standings.get(s.netuid)) for s in views]

    def standing(name: str, help_: str, pick: Any) -> Family:
        return Family(
            name,
            "gauge",
            f"{help_} {CACHED}",
            ("netuid",),
            labels,
            [None if st is None else _num(pick(st)) for _s, st in ranked],
        )

    out += [
        standing(
            N.SUBNET_EMA_PRICE_TAO,
            "EMA (moving) price of one alpha in TAO: what the emission ranking sorts by.",
            lambda st: st.ema_price_tao,
        ),
        standing(
            N.SUBNET_EMISSION_RANK,
            "Place among all subnets (root excluded) by EMA price, 1 = highest; ties go to "
            "the lower netuid.",
            lambda st: st.rank,
        ),
        standing(
            N.SUBNET_EMISSION_TIER,
            "Emission tier: 1 = ranks 1-32 (share 75% of the block's TAO), 2 = ranks 33-64 "
            "(25%), 0 = rank 65 or beyond (no emission).",
            lambda st: st.tier,
        ),
        standing(
            N.SUBNET_EMISSION_SHARE,
            "Share of the block's TAO emission the subnet receives at this block, 0..1.",
            lambda st: st.share,
        ),
        standing(
            N.SUBNET_EMISSION_TIER_MARGIN_RANKS,
            "Ranks the subnet can fall before it leaves its emission tier (0 = on the "
            "tier's last rank); absent outside every tier.",
            lambda st: st.margin_ranks,
        ),
    ]
    if wide is not None:
        out.append(
            Family(
                N.CHAIN_SUBNETS_RANKED,
                "gauge",
                f"Subnets ranked for emission (all but root). {CACHED}",
                (),
                ((),),
                (float(wide.ranked),),
            )
        )
    return out
