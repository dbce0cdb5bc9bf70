"""Panels more than one dashboard shows, built once so the copies cannot drift apart."""

from __future__ import annotations

from common.metric_names import Exporter as E

from . import common as c


def validator_trust_against_peers():
    """The neuron's validator trust beside its subnet's validator median (neuron detail and
    validator dashboards)."""
    return c.timeseries_panel(
        "Validator trust against peers",
        "Validator trust beside the median of the subnet's validators (permit holders that "
        "have set weights since registering): a drop in both is the subnet, a drop in this "
        "one alone means its weights disagree with consensus.",
        c.RATIO,
        c.query(c.series(E.NEURON_VALIDATOR_TRUST), "validator trust"),
        c.query(c.series(E.SUBNET_VALIDATOR_TRUST_MEDIAN, c.SUBNET), "subnet median"),
        min_value=0,
        stepped=True,
    )


def _same(expr: str) -> str:
    return expr


def stake_drop(knobs: c.Knobs, legend: str, select=_same):
    """The alpha stake's fall from its peak, against the stake-drop alert's lines (fleet and
    neuron detail); ``select`` narrows the neurons (the fleet: watched hotkeys only)."""
    return c.timeseries_panel(
        "Stake drop from recent peak",
        "Share of the alpha stake's highest value over the stake-drop alert's window "
        "that is gone now. Dashed lines: where the alert warns and pages.",
        c.RATIO,
        c.query(select(c.stake_drop_ratio(knobs)), legend),
        thresholds=c.stake_drop_thresholds(knobs),
        min_value=0,
        width=6,
    )


def emission_per_epoch(legend: str, select=_same, width: int = 12):
    """Alpha emitted to the neuron by each epoch (fleet and neuron detail)."""
    return c.timeseries_panel(
        "Emission per epoch",
        "Alpha emitted to the neuron at each epoch.",
        c.ALPHA,
        c.query(select(c.series(E.NEURON_EMISSION_ALPHA)), legend),
        min_value=0,
        stepped=True,
        width=width,
    )


def tempos_since_weights(
    knobs: c.Knobs, legend: str, critical_legend: str, select=_same, note: str = "", width=12
):
    """Blocks since the neuron's last weights, in tempos, against the staleness alert's
    lines (fleet and neuron detail)."""
    return c.timeseries_panel(
        "Tempos since last weight update",
        "Blocks since the chain last recorded weights from this neuron, in tempos. "
        "Dashed line: where the staleness alert warns; 'critical' is where it pages "
        f"(a share of the subnet's activity cutoff).{note}",
        c.TEMPOS,
        c.query(select(c.weights_age_tempos()), legend),
        c.query(c.weights_critical_tempos(knobs), critical_legend),
        thresholds=c.weights_thresholds(knobs),
        min_value=0,
        width=width,
    )
