"""Per-mechanism incentive for subnets that run more than one mechanism (sub-subnets).

A subnet's ``Incentive`` (what ``neurons.all`` reports) is its mechanism 0's; each further
mechanism keeps its own under the storage index ``mechid * 4096 + netuid``. Reads, per poll
at the pinned block: 1 ``query_map`` of ``MechanismCountCurrent`` (every subnet at once, started
with the subnet reads; a subnet absent from it runs one mechanism, the chain's default), then,
once it answers, 1 ``query_batch`` of
``Incentive`` for every mechanism of each read subnet that runs more than one. Subnets with
one mechanism cost nothing more and get no ``mechid`` series.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import bittensor as bt

from common.metric_names import Exporter as N
from exporters.family import Family
from exporters.reads import ReadBook
from exporters.snapshot import U16_MAX, ChainSnapshot, NeuronView, exported_neurons

GLOBAL_MAX_SUBNET_COUNT = 4096  # storage index = mechid * 4096 + netuid


def _netuid(key: Any) -> int:
    """A map key as the SDK decodes it: the netuid, or a one-element tuple of it."""
    if isinstance(key, list | tuple):
        key = key[0]
    return int(key)


async def mechanism_counts(snap: Any, book: ReadBook) -> dict[int, int]:
    """netuid -> mechanism count, for subnets that store one (absent: 1). A runtime without
    the item runs one mechanism everywhere (its default); a failed read exports no
    per-mechanism series this poll."""
    rows = await book.read(
        "mechanism_counts",
        snap.query_map(bt.storage.SubtensorModule.MechanismCountCurrent),
        fallback=[],
    )
    return {_netuid(k): int(v or 1) for k, v in rows or ()}


async def mechanism_incentives(
    snap: Any, netuid: int, counts: Awaitable[dict[int, int]] | None, book: ReadBook
) -> tuple[tuple[float, ...], ...]:
    """Per mechanism (index = mechid), each uid's incentive 0..1; empty for one mechanism
    and when the read failed. ``counts`` is the poll's :func:`mechanism_counts` read, shared
    by every subnet."""
    count = (await counts).get(netuid, 1) if counts is not None else 1
    if count <= 1:
        return ()
    rows = await book.read(
        "mechanism_incentives",
        snap.query_batch(
            bt.storage.SubtensorModule.Incentive,
            [[mechid * GLOBAL_MAX_SUBNET_COUNT + netuid] for mechid in range(count)],
        ),
        context=netuid,
    )
    return tuple(tuple(int(v or 0) / U16_MAX for v in (row or ())) for row in rows or ())


def mechanism_samples(
    snap: ChainSnapshot, neurons: Sequence[NeuronView]
) -> tuple[list[tuple[str, ...]], list[float | None]]:
    """Label sets and values of the per-mechanism incentive of the exported ``neurons``."""
    labels: list[tuple[str, ...]] = []
    values: list[float | None] = []
    per_subnet: Mapping[int, tuple[tuple[float, ...], ...]] = {
        n: v.mechanism_incentives for n, v in snap.subnets.items() if v.mechanism_incentives
    }
    for nv in neurons:
        rows = per_subnet.get(nv.netuid)
        if not rows:
            continue
        for mechid, row in enumerate(rows):
            labels.append((str(nv.netuid), nv.hotkey, str(nv.uid), str(mechid)))
            values.append(row[nv.uid] if nv.uid < len(row) else None)
    return labels, values


def families(snap: ChainSnapshot) -> list[Family]:
    """The per-mechanism incentive of the exported neurons; no family at all where every
    read subnet runs one mechanism."""
    family = Family(N.NEURON_MECHANISM_INCENTIVE, *mechanism_samples(snap, exported_neurons(snap)))
    return [family] if family.values else []
