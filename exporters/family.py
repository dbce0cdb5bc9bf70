"""One metric family as plain data: a declared series and its samples.

Its own module so that the areas that build families and the formatter that renders them
all stand on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from common.series import Series

_NO_LABELS: tuple[tuple[str, ...], ...] = ((),)


def num(value: float | None) -> float | None:
    """A sample value, None (no sample) kept."""
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class Family:
    """One family of a declared :class:`Series`: what both the collector and the formatter
    render.

    ``values[i]`` belongs to ``label_values[i]``; None means "no sample for this label set"
    (e.g. no pruning position while immune). Families over the same neurons share one
    ``label_values`` sequence object, so the formatter escapes each label set once per
    render instead of once per family.
    """

    series: Series
    label_values: Sequence[tuple[str, ...]]
    values: Sequence[float | None]

    @classmethod
    def single(cls, series: Series, value: float) -> Family:
        """The family of an unlabelled series with one sample."""
        return cls(series, _NO_LABELS, (float(value),))

    @property
    def name(self) -> str:
        return str(self.series)

    @property
    def kind(self) -> str:
        return self.series.kind

    @property
    def help(self) -> str:
        return self.series.help

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.series.labels

    def to_metric(self) -> Metric:
        cls = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        metric = cls(self.name, self.help, labels=list(self.label_names))
        for labels, value in zip(self.label_values, self.values, strict=True):
            if value is not None:
                metric.add_metric(list(labels), value)
        return metric
