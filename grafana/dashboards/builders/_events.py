"""Chain events (``exporters/events/``) on the subnet and neuron views: each kind's declared
annotations (``EventKind.dashboard``), so a change of hyperparameter, take, childkeys or
coldkey lines up with what followed, and a "Chain events" panel of the same counters."""

from __future__ import annotations

from types import MappingProxyType

from exporters.events import churn, discover_kinds
from exporters.events.kind import Annotation, PanelQuery

from . import common as c

_SCOPES = MappingProxyType({"subnet": c.SUBNET, "hotkey": 'hotkey=~"$hotkey"', "neuron": c.NEURON})
_COLOURS = MappingProxyType({"yellow": c.YELLOW, "red": c.RED, "blue": c.BLUE})


def _increase(counter: str, by: str, scope: str | None) -> str:
    selector = c.total(counter) if scope is None else c.counter(counter, _SCOPES[scope])
    return f"sum by ({by}) (increase({selector}[$__rate_interval]))"


def _declared(view: str, cls: type) -> list:
    found = [d for kind in discover_kinds() for d in kind.dashboard if isinstance(d, cls)]
    return sorted((d for d in found if d.view == view), key=lambda d: d.place)


def _annotations(view: str) -> list[c.PrometheusAnnotation]:
    return [
        c.PrometheusAnnotation(
            a.name,
            f"{_increase(a.counter, a.by, a.scope)} > 0",
            _COLOURS[a.colour],
            a.title,
            a.text,
        )
        for a in _declared(view, Annotation)
    ]


def _queries(view: str) -> list:
    return [
        c.query(_increase(q.counter, q.by, q.scope), q.legend) for q in _declared(view, PanelQuery)
    ]


def subnet_annotations() -> list[c.PrometheusAnnotation]:
    return _annotations("subnet")


def neuron_annotations() -> list[c.PrometheusAnnotation]:
    return _annotations("neuron")


def subnet_panels() -> list:
    return [
        c.timeseries_panel(
            "Chain events",
            "Hyperparameter changes, registrations and prunings per interval on the subnet, "
            "from the exporter's event counters (also the annotations on this dashboard).",
            c.COUNT,
            *_queries("subnet"),
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
                f"max by (netuid) ({c.series(churn.AXONS_SERVED, c.SUBNET)})",
                "sn{{netuid}} axons",
            ),
            c.query(
                f"max by (netuid) ({c.series(churn.LAST_DEREGISTERED_EMISSION_ALPHA, c.SUBNET)})",
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
            *_queries("neuron"),
            min_value=0,
            width=24,
            height=6,
        ),
    ]
