"""Every series taowatch declares, from the declarations themselves (nothing parsed)."""

from __future__ import annotations

from common.metric_names import Exporter, Probe, Runtime
from common.series import Series
from exporters.events import discover_kinds


def declared_series() -> tuple[Series, ...]:
    """The exporter's, the neurons', the probe's and every chain-event kind's series."""
    kinds = tuple(s for kind in discover_kinds() for s in kind.series)
    return (*Exporter.all(), *Runtime.all(), *Probe.all(), *kinds)
