"""Chain events (``exporters/events.py``) on the subnet and neuron views: annotations from
the event counters, so a change of hyperparameter, take, childkeys or coldkey lines up with
what followed, and a panel of the same counters."""

from __future__ import annotations

from common.metric_names import Events as V

from . import common as c

_HOTKEY = 'hotkey=~"$hotkey"'


def _marker(name: str, expr: str, colour: str, title: str, text: str) -> c.PrometheusAnnotation:
    return c.PrometheusAnnotation(name, f"{expr} > 0", colour, title, text)


def subnet_annotations() -> list[c.PrometheusAnnotation]:
    return [
        _marker(
            "Hyperparameter changes",
            f"sum by (netuid, name) (increase({c.counter(V.HYPERPARAMETER_CHANGES, c.SUBNET)}"
            "[$__rate_interval]))",
            c.YELLOW,
            "Hyperparameter changed",
            "sn{{netuid}}: {{name}} changed",
        ),
        _marker(
            "Prunings",
            f"sum by (netuid) (increase({c.counter(V.SUBNET_DEREGISTRATIONS, c.SUBNET)}"
            "[$__rate_interval]))",
            c.RED,
            "Neurons pruned",
            "sn{{netuid}}: neurons replaced by new registrations",
        ),
    ]


def neuron_annotations() -> list[c.PrometheusAnnotation]:
    return [
        *subnet_annotations()[:1],
        _marker(
            "Take changes",
            c.increase(V.DELEGATE_TAKE_CHANGES, "hotkey", _HOTKEY),
            c.YELLOW,
            "Delegate take changed",
            "{{hotkey}}: take changed",
        ),
        _marker(
            "Childkey changes",
            f"sum by (netuid, hotkey, stage) (increase({c.counter(V.CHILDKEY_CHANGES)}"
            "[$__rate_interval]))",
            c.BLUE,
            "Childkeys changed",
            "sn{{netuid}} {{hotkey}}: childkeys {{stage}}",
        ),
        _marker(
            "Coldkey swaps",
            f"sum by (coldkey, action) (increase({c.total(V.COLDKEY_SWAP_EVENTS)}"
            "[$__rate_interval]))",
            c.RED,
            "Coldkey swap",
            "coldkey {{coldkey}}: swap {{action}}",
        ),
    ]


def subnet_panels() -> list:
    return [
        c.timeseries_panel(
            "Chain events",
            "Hyperparameter changes, registrations and prunings per interval on the subnet, "
            "from the exporter's event counters (also the annotations on this dashboard).",
            c.COUNT,
            c.query(
                f"sum by (netuid, name) (increase("
                f"{c.counter(V.HYPERPARAMETER_CHANGES, c.SUBNET)}[$__rate_interval]))",
                "sn{{netuid}} {{name}} changed",
            ),
            c.query(
                c.increase(V.SUBNET_REGISTRATIONS, "netuid", c.SUBNET), "sn{{netuid}} registered"
            ),
            c.query(
                c.increase(V.SUBNET_DEREGISTRATIONS, "netuid", c.SUBNET), "sn{{netuid}} pruned"
            ),
            min_value=0,
            width=12,
        ),
        c.timeseries_panel(
            "Served axons and the last pruned emission",
            "Neurons serving an axon (a fall far below the trailing median is an axon "
            "collapse), and the alpha the last pruned neuron earned in its last epoch (that "
            "series exists only once the agent has seen a pruning on the subnet).",
            c.COUNT,
            c.query(
                f"max by (netuid) ({c.series(V.SUBNET_AXONS_SERVED, c.SUBNET)})",
                "sn{{netuid}} axons",
            ),
            c.query(
                "max by (netuid) "
                f"({c.series(V.SUBNET_LAST_DEREGISTERED_EMISSION_ALPHA, c.SUBNET)})",
                "sn{{netuid}} last pruned emission (alpha)",
            ),
            min_value=0,
            width=12,
        ),
    ]


def neuron_panels() -> list:
    return [
        c.timeseries_panel(
            "Chain events",
            "Take and childkey changes of this hotkey and hyperparameter changes of its "
            "subnet per interval, from the exporter's event counters (also the annotations).",
            c.COUNT,
            c.query(c.increase(V.DELEGATE_TAKE_CHANGES, "hotkey", _HOTKEY), "take changed"),
            c.query(c.increase(V.CHILDKEY_CHANGES, "stage"), "childkeys {{stage}}"),
            c.query(c.increase(V.HYPERPARAMETER_CHANGES, "name", c.SUBNET), "{{name}} changed"),
            min_value=0,
            width=24,
            height=6,
        ),
    ]
