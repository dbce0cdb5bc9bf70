"""One metric family as plain data, and the wording every cached series shares.

Its own module so that the modules that build families (the collector, the event and mechanism
families) and the formatter that renders them all stand on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

CACHED = "Cached: read from the chain once per poll (every block by default)."


def cached(help_: str) -> str:
    return f"{help_} {CACHED}"


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family as plain data: what both the collector and the formatter render.

    ``values[i]`` belongs to ``label_values[i]``; None means "no sample for this label set"
    (e.g. no pruning position while immune). Families over the same neurons share one
    ``label_values`` sequence object, so the formatter escapes each label set once per
    render instead of once per family. ``name`` carries no ``_total``: counters get it on
    the wire, as prometheus-client does.
    """

    name: str
    kind: str  # "gauge" or "counter"
    help: str
    label_names: tuple[str, ...]
    label_values: Sequence[tuple[str, ...]]
    values: Sequence[float | None]

    def to_metric(self) -> Metric:
        cls = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        metric = cls(self.name, self.help, labels=list(self.label_names))
        for labels, value in zip(self.label_values, self.values, strict=True):
            if value is not None:
                metric.add_metric(list(labels), value)
        return metric
