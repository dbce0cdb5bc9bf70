"""Prometheus collector over the poller's current snapshot: the areas' families, in order.

Each ``collect()`` yields fresh metric families built from one immutable snapshot (whatever
reference the poller holds at that instant), so a scrape never mixes two blocks, and a
hotkey or uid that left a subnet is simply absent from the next scrape: no stale series, no
expiry machinery. Watched hotkeys keep ``bittensor_neuron_registered`` (0 when gone) and their
deregistration counter.

Example exposition (one watched hotkey on subnet 1)::

    # HELP bittensor_neuron_registered 1 if the watched hotkey holds a uid on the subnet ...
    # TYPE bittensor_neuron_registered gauge
    bittensor_neuron_registered{hotkey="5F...",netuid="1"} 1.0
    bittensor_neuron_incentive{hotkey="5F...",netuid="1",uid="3"} 0.61
    bittensor_subnet_tempo_blocks{netuid="1"} 360.0
    bittensor_chain_head_block 1000.0
    bittensor_exporter_up 1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client.core import Metric

from exporters import mechanisms, neurons, status, subnets
from exporters.economy_series import economy_families
from exporters.events import event_families
from exporters.family import Family
from exporters.reveal_watch import reveal_families
from exporters.runtime_version import runtime_families
from exporters.snapshot import ChainSnapshot
from exporters.status import PollStatus


def _runtime(snap: ChainSnapshot) -> list[Family]:
    return runtime_families(snap.runtime)


def _reveals(snap: ChainSnapshot) -> list[Family]:
    return reveal_families(snap.reveals)


# Every area's families of one snapshot, in exposition order.
AREAS: tuple[Callable[[ChainSnapshot], list[Family]], ...] = (
    neurons.families,
    mechanisms.families,
    subnets.families,
    economy_families,
    subnets.chain_families,
    event_families,
    _runtime,
    _reveals,
)


class SnapshotSource(Protocol):
    @property
    def snapshot(self) -> ChainSnapshot | None: ...

    @property
    def status(self) -> PollStatus: ...


class ChainCollector:
    """Yields every chain and exporter series from the poller's current snapshot.

    :meth:`families` is the single description of what is exported; :meth:`collect` (the
    prometheus-client collector protocol) and ``exporters.exposition`` (the fast text
    formatter ``/metrics`` uses) both render it, and a test holds them byte-identical.
    """

    def __init__(self, source: SnapshotSource):
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for family in self.families():
            yield family.to_metric()

    def families(self) -> list[Family]:
        snapshot, st = self.read()
        return self.snapshot_families(snapshot) + self.status_families(snapshot, st)

    def read(self) -> tuple[ChainSnapshot | None, PollStatus]:
        """Both references, read once: the poller may swap them while a render iterates."""
        return self._source.snapshot, self._source.status

    @staticmethod
    def snapshot_families(snapshot: ChainSnapshot | None) -> list[Family]:
        """The families that depend on the snapshot alone (all but the exporter's own), in
        exposition order: the same for every render of one snapshot, so they can be
        rendered once per poll."""
        if snapshot is None:
            return []
        return [family for area in AREAS for family in area(snapshot)]

    @staticmethod
    def status_families(snapshot: ChainSnapshot | None, status_: PollStatus) -> list[Family]:
        """The exporter's own families, which follow the snapshot's in the exposition."""
        return status.families(snapshot, status_)
