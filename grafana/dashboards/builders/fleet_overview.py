"""Fleet overview: is every watched neuron registered and earning, and can we trust the data?

The first screen an operator opens when an alert fires: one row per watched hotkey with the
chain's verdict on it, the alerts firing now, and whether the chain and exporter are healthy
enough for the rest to be believed.
"""

from __future__ import annotations

from common.metric_names import Exporter as E

from . import _shared
from . import common as c

UID = "taowatch-fleet"
FILENAME = "fleet-overview.json"


def _watched(expr: str) -> str:
    """Only watched hotkeys: the agent exports registration for those alone, while
    ``export_all_neurons`` adds every other neuron of a subnet to the other series, and the
    hotkey variable's "All" (``.*``) would let them in."""
    return f"({expr}) and on (netuid, hotkey) {c.series(E.NEURON_REGISTERED)}"


def _neuron_table(knobs: c.Knobs):
    return c.table_panel(
        "Watched neurons",
        "One row per watched hotkey and subnet, as the chain reported it at the last poll. "
        "Registered is 1 or 0 (0 = the hotkey holds no UID on this subnet). 'Tempos since "
        "update' is blocks since the neuron last set weights divided by the subnet tempo; it "
        "turns orange where the weight-staleness alert warns. 'Stake drop' is the share of "
        "the alpha stake's peak over the stake-drop alert's window that is gone. 'Eviction "
        "position' 0 means the next registration on the subnet evicts this neuron.",
        [
            ("Registered", c.NONE, c.series(E.NEURON_REGISTERED), c.falling(None, 1)),
            ("UID", c.NONE, _watched(c.series(E.NEURON_UID)), None),
            ("Incentive", c.RATIO, _watched(c.series(E.NEURON_INCENTIVE)), None),
            ("Dividends", c.RATIO, _watched(c.series(E.NEURON_DIVIDENDS)), None),
            ("Validator trust", c.RATIO, _watched(c.series(E.NEURON_VALIDATOR_TRUST)), None),
            ("Emission", c.ALPHA, _watched(c.series(E.NEURON_EMISSION_ALPHA)), None),
            # Subnet stake is alpha; the TAO (root) part is 0 on most hotkeys.
            ("Stake", c.ALPHA, _watched(c.series(E.NEURON_STAKE_ALPHA)), None),
            (
                "Stake drop",
                c.RATIO,
                _watched(c.stake_drop_ratio(knobs)),
                c.stake_drop_thresholds(knobs),
            ),
            (
                "Tempos since update",
                c.TEMPOS,
                _watched(c.weights_age_tempos()),
                c.weights_thresholds(knobs),
            ),
            (
                "Immunity left",
                c.BLOCKS,
                _watched(c.series(E.NEURON_IMMUNITY_REMAINING_BLOCKS)),
                None,
            ),
            (
                "Eviction position",
                c.NONE,
                _watched(c.series(E.NEURON_PRUNING_POSITION)),
                c.eviction_thresholds(knobs),
            ),
        ],
        height=10,
    )


def build(knobs: c.Knobs):
    dash = (
        c.base_dashboard(
            UID,
            "taowatch / Fleet overview",
            "Every watched hotkey at a glance: registered, earning, setting weights, at risk; "
            "firing alerts; chain and exporter health.",
        )
        .with_variable(
            c.label_variable(
                "netuid", "Subnet", E.NEURON_REGISTERED, description="Watched subnets."
            )
        )
        .with_variable(
            c.label_variable(
                "hotkey",
                "Hotkey",
                E.NEURON_REGISTERED,
                c.SUBNET,
                description="Watched hotkeys on the selected subnets.",
            )
        )
    )

    dash = dash.with_row(c.row("Can the data be trusted?"))
    dash = (
        dash.with_panel(
            c.stat_panel(
                "Exporter up",
                "1 when the agent's last chain poll succeeded. At 0 every other panel shows "
                "the last values read, with their source block, not the chain now.",
                c.NONE,
                c.query(f"min({E.EXPORTER_UP})"),
                thresholds=c.falling(None, 1),
                mappings=c.value_mappings({0: ("DOWN", c.RED), 1: ("UP", c.GREEN)}),
            )
        )
        .with_panel(
            c.stat_panel(
                "Chain data age",
                "Time since the agent last completed a chain poll, in poll intervals. Red "
                "where the 'exporter data stale' alert fires.",
                c.POLLS,
                c.query(f"max({c.data_age_polls()})"),
                thresholds=c.rising(None, knobs.threshold("exporter_stale_polls")),
            )
        )
        .with_panel(
            c.stat_panel(
                "Chain head",
                "The best block the agent's RPC endpoint reports.",
                c.NONE,
                c.query(f"max({E.CHAIN_HEAD_BLOCK})"),
            )
        )
        .with_panel(
            c.stat_panel(
                "Head age",
                "Seconds since the chain head last advanced. A stalled chain shows here "
                "before anything else; red where the chain-stalled alert fires.",
                c.SECONDS,
                c.query(f"time() - max({E.CHAIN_HEAD_TIMESTAMP_SECONDS})"),
                thresholds=c.rising(None, knobs.threshold("chain_stall_seconds")),
            )
        )
        .with_panel(
            c.stat_panel(
                "Registered",
                "Watched hotkey/subnet pairs that hold a UID now.",
                c.COUNT,
                c.query(f"sum({c.series(E.NEURON_REGISTERED)})"),
            )
        )
        .with_panel(
            c.stat_panel(
                "Not registered",
                "Watched hotkey/subnet pairs without a UID. Any is red: the deregistration "
                "alert fires on the same series.",
                c.COUNT,
                c.query(f"count({c.series(E.NEURON_REGISTERED)} == 0) or vector(0)"),
                thresholds=c.rising(None, 1),
            )
        )
    )

    dash = dash.with_row(c.row("Neurons"))
    dash = dash.with_panel(_neuron_table(knobs))
    dash = dash.with_panel(
        c.table_panel(
            "Firing alerts",
            "Alerts Prometheus has firing now, from its ALERTS series, by name, severity, "
            "subnet and hotkey, without the always-firing Watchdog. Empty is good.",
            [
                (
                    "Firing",
                    c.COUNT,
                    "sum by (alertname, severity, netuid, hotkey) "
                    '(ALERTS{alertstate="firing", alertname!="TaowatchWatchdog"})',
                    c.rising(None, 1),
                )
            ],
            height=6,
        )
    )

    dash = dash.with_row(c.row("Earning"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Incentive",
                "Share of the subnet's miner emission the chain gives this neuron each epoch "
                "(0..1). Zero for a registered miner over several epochs means no validator "
                "rates it.",
                c.RATIO,
                c.query(_watched(c.series(E.NEURON_INCENTIVE)), c.HOTKEY_LEGEND),
                min_value=0,
                stepped=True,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Dividends",
                "Share of the subnet's validator emission this neuron earns (0..1).",
                c.RATIO,
                c.query(_watched(c.series(E.NEURON_DIVIDENDS)), c.HOTKEY_LEGEND),
                min_value=0,
                stepped=True,
            )
        )
        .with_panel(_shared.emission_per_epoch(c.HOTKEY_LEGEND, _watched))
        .with_panel(
            c.timeseries_panel(
                "Stake",
                "Stake on the hotkey in the subnet's alpha.",
                c.ALPHA,
                c.query(_watched(c.series(E.NEURON_STAKE_ALPHA)), c.HOTKEY_LEGEND),
                stepped=True,
            )
        )
    )

    dash = dash.with_row(c.row("At risk"))
    dash = (
        dash.with_panel(_shared.stake_drop(knobs, c.HOTKEY_LEGEND, _watched))
        .with_panel(
            _shared.tempos_since_weights(
                knobs, c.HOTKEY_LEGEND, "critical sn{{netuid}}", _watched, width=6
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Immunity left",
                "Blocks of immunity from pruning this neuron has left. At 0 it competes in "
                "the eviction order. Dashed line: where 'immunity ending unearned' warns "
                "(if the neuron has earned nothing by then).",
                c.BLOCKS,
                c.query(_watched(c.series(E.NEURON_IMMUNITY_REMAINING_BLOCKS)), c.HOTKEY_LEGEND),
                thresholds=c.immunity_thresholds(knobs),
                min_value=0,
                width=6,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Eviction position",
                "Place in the subnet's eviction order among non-immune neurons: 0 is evicted "
                "by the next registration. Red at the position the eviction-risk alert "
                "watches.",
                c.NONE,
                c.query(_watched(c.series(E.NEURON_PRUNING_POSITION)), c.HOTKEY_LEGEND),
                thresholds=c.eviction_thresholds(knobs),
                min_value=0,
                stepped=True,
                width=6,
            )
        )
    )
    return dash
