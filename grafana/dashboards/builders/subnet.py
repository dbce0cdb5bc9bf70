"""Subnet: where is the epoch, what does a registration cost, and who is evicted next?

The subnet-wide context for a neuron's numbers: tempo and epoch progress, registration cost
and pace, alpha price, and the bottom of the eviction order (every neuron there when the
agent exports whole subnets, the watched ones otherwise).
"""

from __future__ import annotations

from common.metric_names import Exporter as E

from . import _events
from . import common as c

UID = "taowatch-subnet"
FILENAME = "subnet.json"

_LEGEND = "sn{{netuid}}"
_BOTTOM = 10


def _subnet(name: str) -> str:
    return f"max by (netuid) ({c.series(name, c.SUBNET)})"


def build(knobs: c.Knobs):
    dash = c.base_dashboard(
        UID,
        "taowatch / Subnet",
        "Tempo and epoch progress, registration cost and recent registrations, alpha price "
        "and the bottom of the eviction order.",
    ).with_variable(
        c.label_variable("netuid", "Subnet", E.SUBNET_TEMPO_BLOCKS, description="Watched subnets.")
    )

    for annotation in _events.subnet_annotations():
        dash = dash.annotation(annotation)

    dash = dash.with_row(c.row("Epoch"))
    dash = (
        dash.with_panel(
            c.stat_panel(
                "Tempo",
                "Blocks between the subnet's Yuma epochs.",
                c.BLOCKS,
                c.query(_subnet(E.SUBNET_TEMPO_BLOCKS), _LEGEND),
            )
        )
        .with_panel(
            c.stat_panel(
                "Epoch progress",
                "How far the subnet is into its current tempo: incentive, dividends and "
                "emission change only when this wraps.",
                c.RATIO,
                c.query(
                    f"{_subnet(E.SUBNET_BLOCKS_SINCE_LAST_STEP)}"
                    f" / {_subnet(E.SUBNET_TEMPO_BLOCKS)}",
                    _LEGEND,
                ),
            )
        )
        .with_panel(
            c.stat_panel(
                "Immunity period",
                "Blocks a newly registered neuron is safe from pruning.",
                c.BLOCKS,
                c.query(_subnet(E.SUBNET_IMMUNITY_PERIOD_BLOCKS), _LEGEND),
            )
        )
        .with_panel(
            c.stat_panel(
                "Activity cutoff",
                "Blocks without a weight update after which a validator counts as inactive.",
                c.BLOCKS,
                c.query(_subnet(E.SUBNET_ACTIVITY_CUTOFF_BLOCKS), _LEGEND),
            )
        )
        .with_panel(
            c.stat_panel(
                "Neurons",
                "Registered neurons against the subnet's maximum: at the maximum every "
                "registration evicts someone.",
                c.COUNT,
                c.query(_subnet(E.SUBNET_NEURONS), "sn{{netuid}} registered"),
                c.query(_subnet(E.SUBNET_MAX_NEURONS), "sn{{netuid}} max"),
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Blocks since last epoch",
                "Blocks since the subnet's last epoch step, a sawtooth that resets every tempo.",
                c.BLOCKS,
                c.query(_subnet(E.SUBNET_BLOCKS_SINCE_LAST_STEP), _LEGEND),
                min_value=0,
                width=24,
                height=6,
            )
        )
    )

    dash = dash.with_row(c.row("Registration and price"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Registration cost",
                "TAO burned to register on the subnet now, between the chain's min and max "
                "burn, and the operator's alert threshold (agent config "
                "registration_cost_alert_tao; BittensorSubnetRegistrationCostHigh fires "
                "above it) where one is set.",
                c.TAO,
                c.query(_subnet(E.SUBNET_REGISTRATION_COST_TAO), _LEGEND),
                c.query(_subnet(E.SUBNET_REGISTRATION_COST_ALERT_TAO), "sn{{netuid}} threshold"),
                c.query(_subnet(E.SUBNET_MIN_BURN_TAO), "sn{{netuid}} min burn"),
                c.query(_subnet(E.SUBNET_MAX_BURN_TAO), "sn{{netuid}} max burn"),
                min_value=0,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Recent registrations",
                "Registrations in the subnet's recent window. While this is above zero a "
                "neuron at the bottom of the eviction order can be pruned.",
                c.COUNT,
                c.query(_subnet(E.SUBNET_REGISTRATIONS_RECENT), _LEGEND),
                min_value=0,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Alpha price",
                "Price of the subnet's alpha token in TAO.",
                "suffix: TAO/alpha",
                c.query(_subnet(E.SUBNET_ALPHA_PRICE_TAO), _LEGEND),
                min_value=0,
                width=8,
            )
        )
    )

    dash = _emission(dash, knobs)
    dash = _rules(dash)

    dash = dash.with_row(c.row("Chain events"))
    for panel in _events.subnet_panels():
        dash = dash.with_panel(panel)

    dash = dash.with_row(c.row("Eviction order"))
    bottom = f"bottomk by (netuid) ({_BOTTOM}, {c.series(E.NEURON_PRUNING_POSITION, c.SUBNET)})"
    dash = dash.with_panel(
        c.table_panel(
            "Bottom of the eviction order",
            f"The {_BOTTOM} neurons closest to eviction on each subnet (position 0 is pruned "
            "by the next registration), with what put them there: the chain evicts the "
            "lowest emission first, then the oldest registration, then the lowest UID, "
            "among non-immune neurons while more than the subnet's floor of non-immune "
            "UIDs remain, else among the immune ones; the owner's hotkey never. Covers "
            "every neuron when the agent exports whole subnets, the watched ones otherwise.",
            [
                (
                    "Position",
                    c.NONE,
                    bottom,
                    c.eviction_thresholds(knobs),
                ),
                (
                    "Emission",
                    c.ALPHA,
                    f"{c.series(E.NEURON_EMISSION_ALPHA, c.SUBNET)} and on (netuid, hotkey) "
                    f"{bottom}",
                    None,
                ),
                (
                    "Registered at block",
                    c.NONE,
                    f"{c.series(E.NEURON_REGISTRATION_BLOCK, c.SUBNET)} and on (netuid, hotkey)"
                    f" {bottom}",
                    None,
                ),
                (
                    "UID",
                    c.NONE,
                    f"{c.series(E.NEURON_UID, c.SUBNET)} and on (netuid, hotkey) {bottom}",
                    None,
                ),
            ],
            height=10,
        )
    )
    return dash


def _emission(dash, knobs: c.Knobs):
    """The chain's emission split and the gate: what the subnet gets and how far the bar is."""
    gate_min = knobs.threshold("emission_gate_weight_min")
    flags = c.value_mappings({0: ("off", c.RED), 1: ("on", c.GREEN)})
    dash = dash.with_row(c.row("Emission gate"))
    return (
        dash.with_panel(
            c.stat_panel(
                "Emission switch",
                "SubnetEmissionEnabled: off means the pool gets no TAO at all "
                "(BittensorSubnetEmissionOff pages where you have a hotkey registered).",
                c.NONE,
                c.query(_subnet(E.SUBNET_EMISSION_ENABLED), _LEGEND),
                mappings=flags,
            )
        )
        .with_panel(
            c.stat_panel(
                "Gate weight",
                "s^3 / (s^3 + bar^3): 0.5 at the bar, near 0 well below it; "
                "BittensorSubnetUnderEmissionBar pages under the alert's threshold.",
                c.RATIO,
                c.query(_subnet(E.SUBNET_EMISSION_GATE_WEIGHT), _LEGEND),
                thresholds=c.steps(c.RED, (gate_min, c.ORANGE), (0.5, c.GREEN)),
            )
        )
        .with_panel(
            c.stat_panel(
                "Emission share",
                "Share of the block's TAO the chain paid the subnet (SubnetTaoInEmission over "
                "every subnet's).",
                c.RATIO,
                c.query(_subnet(E.SUBNET_EMISSION_SHARE), _LEGEND),
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Demand share against the bar",
                "Demand share (EMA-price share after miner burn) over the bar "
                "(EmissionGateBar, the 32nd-largest share): 1 is the bar.",
                c.NONE,
                c.query(_subnet(E.SUBNET_EMISSION_BAR_RATIO), _LEGEND),
                thresholds=c.steps(c.RED, (1, c.GREEN)),
                min_value=0,
                width=12,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "EMA price against spot price",
                "The split weighs the EMA price, which follows the spot price slowly: a "
                "spot price below the EMA means the share is still falling.",
                "suffix: TAO/alpha",
                c.query(_subnet(E.SUBNET_EMA_PRICE_TAO), "sn{{netuid}} EMA"),
                c.query(_subnet(E.SUBNET_ALPHA_PRICE_TAO), "sn{{netuid}} spot"),
                min_value=0,
                width=12,
            )
        )
    )


def _rules(dash):
    """The switches that change what the subnet's other numbers mean."""
    flags = c.value_mappings({0: ("off", c.BLUE), 1: ("on", c.GREEN)})
    dash = dash.with_row(c.row("Consensus rules"))
    for title, description, name in (
        (
            "Commit-reveal",
            "Weights are committed timelocked and revealed reveal-period epochs later: the "
            "weights-stale alert waits that long on top.",
            E.SUBNET_COMMIT_REVEAL_ENABLED,
        ),
        (
            "Yuma3",
            "The epoch's Yuma3 bonds and dividends branch.",
            E.SUBNET_YUMA3_ENABLED,
        ),
        (
            "Liquid alpha",
            "Liquid alpha (acts in the Yuma3 branch only).",
            E.SUBNET_LIQUID_ALPHA_ENABLED,
        ),
        (
            "Null consensus",
            "The largest stake's weights alone pay miners; no consensus or validator trust: "
            "weight and vtrust alerts stay silent here.",
            E.SUBNET_NULL_CONSENSUS,
        ),
    ):
        dash = dash.with_panel(
            c.stat_panel(
                title, description, c.NONE, c.query(_subnet(name), _LEGEND), mappings=flags
            )
        )
    return dash.with_panel(
        c.stat_panel(
            "Reveal period",
            "Epochs between a weight commit and its reveal.",
            c.COUNT,
            c.query(_subnet(E.SUBNET_REVEAL_PERIOD_EPOCHS), _LEGEND),
            width=8,
        )
    )
