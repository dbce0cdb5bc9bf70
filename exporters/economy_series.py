"""The series of today's chain rules and the emission gate, as :class:`exporters.family.Family`.

Per read subnet: the switches of :class:`SubnetRules` as 0/1 or numbers, ``is_root``, and
where the subnet stands against the emission gate; chain-wide: the gate's bar, exponent and
rank.
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
        "1 if the subnet runs null consensus (the largest stake's weights alone pay miners, "
        "no consensus or validator trust: those signals mean nothing there), else 0.",
        "null_consensus",
    ),
    (N.SUBNET_MIN_BURN_TAO, "Lowest registration burn the chain allows, TAO.", "min_burn_tao"),
    (N.SUBNET_MAX_BURN_TAO, "Highest registration burn the chain allows, TAO.", "max_burn_tao"),
    (
        N.SUBNET_MIN_NON_IMMUNE_UIDS,
        "Non-immune neurons the chain keeps before it evicts an immune one.",
        "min_non_immune_uids",
    ),
    (
        N.SUBNET_IMMUNE_OWNER_UIDS_LIMIT,
        "ImmuneOwnerUidsLimit: how many of the owner coldkey's hotkeys (earliest registered "
        "first, the subnet owner hotkey in front) no registration evicts.",
        "immune_owner_uids_limit",
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
    settings = [(s, name, v) for s in views for name, v in sorted(s.rules.settings.items())]
    out.append(
        Family(
            N.SUBNET_SETTING,
            "gauge",
            "A subnet switch that lives only in storage, by its storage name (Yuma3On, "
            "SubnetEpochConsensus 1 = Null, SubnetEmissionEnabled, BondsResetOn, "
            "ImmuneOwnerUidsLimit, MinNonImmuneUids, AlphaSigmoidSteepness, BurnHalfLife, "
            f"BurnIncreaseMult); a change raises BittensorSubnetHyperparameterChanged. {CACHED}",
            ("netuid", "name"),
            [(str(s.netuid), name) for s, name, _v in settings],
            [v for _s, _name, v in settings],
        )
    )
    wide = snap.chain_wide
    standings = wide.standings if wide is not None else {}
    placed = [(s, standings.get(s.netuid)) for s in views]

    def standing(name: str, help_: str, pick: Any) -> Family:
        return Family(
            name,
            "gauge",
            f"{help_} {CACHED}",
            ("netuid",),
            labels,
            [None if st is None else _num(pick(st)) for _s, st in placed],
        )

    out += [
        standing(
            N.SUBNET_EMA_PRICE_TAO,
            "EMA (moving) price of one alpha in TAO: what the emission split weighs.",
            lambda st: st.ema_price_tao,
        ),
        standing(
            N.SUBNET_TAO_IN_EMISSION_TAO,
            "TAO the chain injected into the subnet's pool in this block (SubnetTaoInEmission).",
            lambda st: st.tao_in_emission_tao,
        ),
        standing(
            N.SUBNET_EMISSION_SHARE,
            "The subnet's share of the block's TAO as the chain paid it, 0..1 "
            "(its tao_in_emission over every subnet's).",
            lambda st: st.share,
        ),
        standing(
            N.SUBNET_EMISSION_DEMAND_SHARE,
            "EMA-price share weighted by 1 - MinerBurned, 0..1: what the emission gate "
            "compares with the bar.",
            lambda st: st.demand_share,
        ),
        standing(
            N.SUBNET_EMISSION_GATE_WEIGHT,
            "Emission gate weight s^h / (s^h + bar^h), 0..1: 1/2 at the bar, near 0 well "
            "below it; absent without a stored bar.",
            lambda st: st.gate_weight,
        ),
        standing(
            N.SUBNET_EMISSION_BAR_RATIO,
            "Demand share over the emission bar (EmissionGateBar): 1 at the bar, under 1 "
            "below it; absent without a stored bar.",
            lambda st: st.bar_ratio,
        ),
        standing(
            N.SUBNET_EMISSION_ENABLED,
            "SubnetEmissionEnabled: 1 if the subnet's pool gets TAO, 0 if the switch is off "
            "(its alpha still pays miners and validators); absent where the runtime lacks it.",
            lambda st: st.emission_enabled,
        ),
    ]
    if wide is not None:
        for name, help_, value in (
            (
                N.CHAIN_EMISSION_GATE_BAR,
                "EmissionGateBar: the demand share at which a subnet gets half weight "
                "(recomputed every 360 blocks).",
                wide.gate.bar,
            ),
            (N.CHAIN_EMISSION_GATE_EXPONENT, "EmissionGateExponent (h).", wide.gate.exponent),
            (
                N.CHAIN_EMISSION_BAR_RANK,
                "EmissionBarRank: the bar is the demand share at this rank.",
                wide.gate.bar_rank,
            ),
        ):
            if value is not None:
                out.append(Family(name, "gauge", f"{help_} {CACHED}", (), ((),), (float(value),)))
    return out
