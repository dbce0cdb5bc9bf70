"""Validator: is my validator querying, scoring, and landing weights on chain in time?

Runtime series (queries, scores, set_weights) sit beside the chain's record of the same
hotkey (last update, validator trust against the subnet's peers), so a failing
``set_weights`` and the vtrust it costs are on one screen.
"""

from __future__ import annotations

from common.metric_names import Exporter as E
from common.metric_names import Runtime as R

from . import _shared
from . import common as c

UID = "taowatch-validator"
FILENAME = "validator.json"

_FAILED = c.NEURON + ', outcome!="success"'
_OK = c.NEURON + ', outcome="success"'


def build(knobs: c.Knobs):
    dash = (
        c.base_dashboard(
            UID,
            "taowatch / Validator",
            "The bundled validator: queries and their outcomes, scores per miner, weight "
            "setting and its cadence against tempo, validator trust against peers.",
        )
        .with_variable(
            c.label_variable(
                "netuid",
                "Subnet",
                c.total(R.VALIDATOR_QUERIES),
                description="Subnets with a running taowatch validator.",
            )
        )
        .with_variable(
            c.label_variable(
                "hotkey",
                "Validator hotkey",
                c.total(R.VALIDATOR_QUERIES),
                c.SUBNET,
                description="Validator hotkeys on the selected subnets.",
            )
        )
    )
    dash = dash.annotation(
        c.PrometheusAnnotation(
            "Weight updates",
            f"changes({c.series(E.NEURON_LAST_UPDATE_BLOCK)}[$__rate_interval]) > 0",
            c.BLUE,
            "Weights set",
            "sn{{netuid}} {{hotkey}}: the chain recorded a weight update",
        )
    )

    dash = dash.with_row(c.row("Weight setting"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "set_weights outcomes",
                "set_weights attempts per interval by outcome (success, or the failure's "
                "class: rate limited, not registered, RPC error...).",
                c.COUNT,
                c.query(c.increase(R.VALIDATOR_SET_WEIGHTS, "outcome"), "{{outcome}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Failed set_weights in the alert window",
                "Failed and successful set_weights attempts over the repeated-failure "
                "alert's window. Dashed line: the failure count at which it fires (if no "
                "attempt in the window succeeded).",
                c.COUNT,
                # A failure outcome's series exists only once it happened: "or 0 * any
                # attempt" draws the zero line of a validator that has never failed.
                c.query(
                    f"sum by (hotkey) (increase({c.counter(R.VALIDATOR_SET_WEIGHTS, _FAILED)}"
                    f"[{knobs.window('set_weights_failure_window')}]))"
                    f" or 0 * sum by (hotkey) (increase({c.counter(R.VALIDATOR_SET_WEIGHTS)}"
                    f"[{knobs.window('set_weights_failure_window')}]))",
                    "failed {{hotkey}}",
                ),
                c.query(
                    f"sum by (hotkey) (increase({c.counter(R.VALIDATOR_SET_WEIGHTS, _OK)}"
                    f"[{knobs.window('set_weights_failure_window')}]))",
                    "succeeded {{hotkey}}",
                ),
                thresholds=c.rising(None, knobs.threshold("set_weights_failures")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Weight cadence in tempos",
                "Blocks since weights last landed, in tempos: as the validator saw its last "
                "successful set_weights, and as the chain records the hotkey's last update. "
                "Dashed line: where the staleness alert warns; 'critical' is where it pages.",
                c.TEMPOS,
                c.query(
                    f"(scalar(max({E.CHAIN_HEAD_BLOCK}))"
                    f" - max by (netuid, hotkey) ({c.series(R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK)}))"
                    f" / on (netuid) group_left () max by (netuid) "
                    f"({c.series(E.SUBNET_TEMPO_BLOCKS, c.SUBNET)})",
                    "runtime",
                ),
                c.query(c.weights_age_tempos(), "chain"),
                c.query(c.weights_critical_tempos(knobs), "critical"),
                thresholds=c.weights_thresholds(knobs),
                min_value=0,
                width=8,
            )
        )
    )

    dash = _commit_reveal(dash)

    dash = dash.with_row(c.row("Trust"))
    dash = (
        dash.with_panel(_shared.validator_trust_against_peers())
        .with_panel(
            c.timeseries_panel(
                "Validator trust relative to median",
                "Our validator trust divided by the peer median. Dashed line: the ratio "
                "below which the vtrust-drop alert fires.",
                c.RATIO,
                c.query(
                    f"{c.series(E.NEURON_VALIDATOR_TRUST)} / on (netuid) group_left ()"
                    f" max by (netuid) ({c.series(E.SUBNET_VALIDATOR_TRUST_MEDIAN, c.SUBNET)})",
                    "ours / median",
                ),
                thresholds=c.falling(None, knobs.threshold("vtrust_peer_ratio")),
                min_value=0,
                stepped=True,
            )
        )
        .with_panel(
            c.stat_panel(
                "Trust rank",
                "Place among the subnet's validators (permit holders that have set weights) "
                "by validator trust (0 = highest).",
                c.NONE,
                c.query(c.series(E.NEURON_VALIDATOR_TRUST_RANK), "{{hotkey}}"),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Dividends",
                "Share of the subnet's validator emission earned at the last epoch.",
                c.RATIO,
                c.query(c.series(E.NEURON_DIVIDENDS), "{{hotkey}}"),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Validator permit",
                "Without a permit the validator's weights do not count.",
                c.NONE,
                c.query(c.series(E.NEURON_VALIDATOR_PERMIT), "{{hotkey}}"),
                thresholds=c.falling(None, 1),
                mappings=c.value_mappings({0: ("NO PERMIT", c.RED), 1: ("permit", c.GREEN)}),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Stake",
                "Alpha stake on the validator hotkey, and its stake weight (alpha + "
                "tao_weight x root TAO), which the chain's permits and consensus use.",
                c.ALPHA,
                c.query(c.series(E.NEURON_STAKE_ALPHA), "{{hotkey}} alpha"),
                c.query(c.series(E.NEURON_STAKE_WEIGHT), "{{hotkey}} weight"),
                width=6,
            )
        )
    )

    dash = dash.with_row(c.row("Queries and scores"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Queries by outcome",
                "Challenges sent to miners per second, by outcome (ok, wrong answer, timeout, "
                "refused, error).",
                c.PER_SECOND,
                c.query(c.rate(R.VALIDATOR_QUERIES, "outcome"), "{{outcome}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Query latency",
                "Round-trip time of challenges to miners.",
                c.SECONDS,
                c.query(c.quantile(0.5, R.VALIDATOR_QUERY_DURATION_SECONDS, "hotkey"), "p50"),
                c.query(c.quantile(0.99, R.VALIDATOR_QUERY_DURATION_SECONDS, "hotkey"), "p99"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Step duration",
                "How long one validator step (pick miners, query, score) takes, from the "
                "runtime's histogram.",
                c.SECONDS,
                c.query(c.quantile(0.5, R.VALIDATOR_STEP_DURATION_SECONDS, "hotkey"), "p50"),
                c.query(c.quantile(0.95, R.VALIDATOR_STEP_DURATION_SECONDS, "hotkey"), "p95"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Score per miner",
                "The validator's moving-average score of each miner UID; these become its weights.",
                c.NONE,
                c.query(f"max by (uid) ({c.series(R.VALIDATOR_MINER_SCORE)})", "uid {{uid}}"),
                min_value=0,
                stepped=True,
                width=16,
            )
        )
        .with_panel(
            c.table_panel(
                "Scores now",
                "The latest score of each miner UID, highest first.",
                [
                    (
                        "Score",
                        c.NONE,
                        f"sort_desc(max by (uid) ({c.series(R.VALIDATOR_MINER_SCORE)}))",
                        None,
                    )
                ],
                width=8,
            )
        )
    )
    return dash


def _commit_reveal(dash):
    """Commits against reveals, from the validator runtime's own metrics."""
    head = f"scalar(max({E.CHAIN_HEAD_BLOCK}))"
    dash = dash.with_row(c.row("Commit-reveal"))
    return (
        dash.with_panel(
            c.timeseries_panel(
                "Commits and reveals",
                "Weight commits the validator made and reveals the chain was seen to make, "
                "per interval. On a commit-reveal subnet each commit is revealed "
                "reveal-period epochs later; commits without reveals mean the reveals fail.",
                c.COUNT,
                c.query(c.increase(R.VALIDATOR_WEIGHT_COMMITS, "hotkey"), "{{hotkey}} commits"),
                c.query(c.increase(R.VALIDATOR_WEIGHT_REVEALS, "hotkey"), "{{hotkey}} reveals"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Blocks since the last commit and reveal",
                "Blocks since the validator's last weight commit and last observed reveal. "
                "The reveal trails the commit by the reveal period; both growing means "
                "commits stopped.",
                c.BLOCKS,
                c.query(
                    f"{head} - max by (netuid, hotkey) ({c.series(R.VALIDATOR_LAST_COMMIT_BLOCK)})",
                    "{{hotkey}} commit",
                ),
                c.query(
                    f"{head} - max by (netuid, hotkey) ({c.series(R.VALIDATOR_LAST_REVEAL_BLOCK)})",
                    "{{hotkey}} reveal",
                ),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Unrevealed commits",
                "Weight commits made and not yet revealed: at most about the reveal period's "
                "worth while all is well.",
                c.COUNT,
                c.query(c.series(R.VALIDATOR_UNREVEALED_COMMITS), "{{hotkey}}"),
                min_value=0,
                stepped=True,
                width=8,
            )
        )
    )
