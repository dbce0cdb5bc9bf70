"""The neuron detail's eviction row: the eviction ETA's numbers (exporters/eviction.py,
alerts/src/eviction.yaml), from the raw series, so the panels need no recording rule."""

from __future__ import annotations

from common.metric_names import Exporter as E
from exporters.events import churn

from . import common as c

_LEGEND = "{{hotkey}}"

ETA_HELP = (
    "Registrations until pruned over the subnet's registration rate (churn over the "
    "eviction_rate_window): the expected time to eviction of a neuron in today's pool (for "
    "an immune one outside it, add the immunity left). Red where the eviction page fires. "
    "Empty while the subnet takes no registrations (README: Eviction ETA)."
)


def panels(dash, knobs: c.Knobs):
    """The eviction ETA's numbers (exporters/eviction.py, alerts/src/eviction.yaml), from the
    raw series, so the panels need no recording rule."""
    window = knobs.window("eviction_rate_window")
    per_second = (
        f"sum by (job, instance, netuid) (rate({c.counter(churn.REGISTRATIONS, c.SUBNET)}"
        f"[{window}]))"
    )
    immunity = (
        f"{c.series(E.NEURON_IMMUNITY_REMAINING_BLOCKS)} * on (job, instance) group_left () "
        f"{E.CHAIN_BLOCK_TIME_SECONDS}"
    )
    dash = dash.with_row(c.row("Eviction: how soon"))
    return (
        dash.with_panel(
            c.stat_panel(
                "Registrations until pruned, over the rate",
                ETA_HELP,
                c.SECONDS,
                c.query(
                    f"{c.series(E.NEURON_REGISTRATIONS_UNTIL_PRUNED)} / on (job, instance, "
                    f"netuid) group_left () ({per_second} > 0)",
                    _LEGEND,
                ),
                thresholds=c.falling(None, knobs.threshold("eviction_eta_seconds")),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Registrations until pruned",
                "Free uids, then one per place in the eviction order; for an immune neuron "
                "outside today's pool, counted from the end of its immunity. Empty where no "
                "registration can evict it.",
                c.COUNT,
                c.query(c.series(E.NEURON_REGISTRATIONS_UNTIL_PRUNED), _LEGEND),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Subnet registrations per hour",
                "The registration rate the ETA divides by, from the agent's churn counter "
                "over the eviction_rate_window.",
                c.COUNT,
                c.query(f"3600 * {per_second}", "per hour"),
                width=6,
            )
        )
        .with_panel(
            c.stat_panel(
                "Immunity: time left and place after",
                "Time of immunity left (blocks x block time; add it to the ETA of a neuron "
                "outside today's pool), and its place in the eviction order once immunity "
                "ends at today's emissions (0 = next). The place exists only while immune.",
                c.NONE,
                c.query(immunity, "seconds"),
                c.query(c.series(E.NEURON_PRUNING_POSITION_AFTER_IMMUNITY), "place after"),
                width=6,
            )
        )
    )
