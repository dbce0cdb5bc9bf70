"""Chain events an operator pages on, as storage diffs between two trusted polls.

Per poll (only on the trusted path, only at a block newer than the last one observed) the
:class:`EventWatcher` runs every event kind (one module each in this package, declared as
``exporters/events/kind.py`` says): their batched reads at once, then each kind's diff against
what it held at the previous poll, then each kind's families. The kinds today:

* ``coldkey_swap.py``: per watched coldkey, announced / disputed / reset / executed;
* ``delegate_take.py``: per watched hotkey;
* ``childkeys.py``: per watched (netuid, hotkey), pending and applied;
* ``hyperparameters.py``: per read subnet, from the metagraph record the poll already read;
* ``churn.py``: registrations, prunings and served axons per read subnet, from the neuron
  records the poll already read.

Why storage diffs and not ``System.Events`` at the pinned block: events belong to one block,
so a poll that is late, skipped or restarted loses every event of the blocks it did not read
(reading them all costs one ``System.Events`` read per block since the last poll, and mainnet
blocks carry hundreds of events to filter); a storage diff between two polls sees every change
however many blocks lie between them, at a cost that does not grow with the gap. Cost per
poll: 2 ``query_batch`` when coldkeys are watched, 3 when hotkeys are (take, children,
pending children), whatever the number of keys; hyperparameters and churn cost nothing extra.
What a diff cannot see is a change undone between two polls (announce and reset inside one
poll interval); the default interval is one block.

The previous value of each changed quantity is exported as a gauge next to the current one
(``*_previous_*``), not only logged in ``/api/status``: alert templates can query series but
not the agent's change log, so the old -> new text of a notification comes from the gauges.
Each change is also appended to the poller's change log for ``/api/status`` (a coldkey swap or
a take change belongs to a key, not a subnet: its entry has netuid -1 and the key in
``hotkey``).

State (last values and counts, one part per kind under the kind's ``key``) round-trips
through :meth:`EventWatcher.state` into the agent's state file, so counters survive an agent
restart.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from exporters.events.kind import EventChange, EventKind, Poll, Read
from exporters.family import Family
from exporters.reads import ReadBook
from exporters.snapshot import SubnetView, WatchedNeuron


@dataclass(frozen=True, slots=True)
class EventsView:
    """Every kind's families of one poll, frozen with the snapshot."""

    families: tuple[Family, ...] = ()


def discover_kinds() -> tuple[type[EventKind], ...]:
    """Every :class:`EventKind` defined in this package's modules, by ``order``: a new kind
    is a new module, registered nowhere else."""
    package = __name__.rpartition(".")[0]
    found: dict[str, type[EventKind]] = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, EventKind)
                and value is not EventKind
                and value.__module__ == module.__name__
            ):
                found[value.key] = value
    return tuple(sorted(found.values(), key=lambda k: k.order))


class EventWatcher:
    """Runs every event kind per trusted poll; its state is plain JSON."""

    def __init__(
        self,
        state: Mapping[str, Any] | None = None,
        *,
        kinds: Sequence[type[EventKind]] | None = None,
        logger: Any = None,
    ):
        self._log = logger or structlog.get_logger("taowatch.exporter")
        state = dict(state or {})
        self._block: int | None = state.get("block")
        self.kinds: tuple[EventKind, ...] = tuple(
            kind(state.get(kind.key)) for kind in (kinds or discover_kinds())
        )
        self._view = EventsView()

    def state(self) -> dict[str, Any]:
        return {"block": self._block} | {kind.key: kind.state for kind in self.kinds}

    @property
    def view(self) -> EventsView:
        return self._view

    async def observe(
        self,
        snap: Any,
        block: int,
        subnets: Mapping[int, SubnetView],
        metagraphs: Mapping[int, Any],
        watched: Sequence[WatchedNeuron],
        coldkeys: Sequence[str],
        book: ReadBook | None = None,
    ) -> list[EventChange]:
        """Read every kind's storage at the pinned ``snap`` and diff it against the last
        observation. A block not newer than the last one observed changes nothing. Each
        read fails alone (``book``, ``exporters/reads.py``): a kind with a failed read is
        not diffed this poll, the others are."""
        if self._block is not None and block <= self._block:
            return []
        poll = Poll(
            block=block,
            coldkeys=tuple(coldkeys),
            hotkeys=tuple(sorted({w.hotkey for w in watched})),
            pairs=tuple(sorted({(w.netuid, w.hotkey) for w in watched if w.netuid != 0})),
            subnets=subnets,
            metagraphs=metagraphs,
            watched=watched,
        )
        reads = [kind.reads(poll) for kind in self.kinds]
        results = await _read_batches(
            snap, [r for per_kind in reads for r in per_kind], book or ReadBook()
        )
        out: list[EventChange] = []
        for kind, kind_reads in zip(self.kinds, reads, strict=True):
            if any(not r.optional and results[id(r)] is None for r in kind_reads):
                continue  # its diff waits for a poll that read it
            out += kind.diff(poll, {r.name: results[id(r)] for r in kind_reads})
        self._block = block
        self._view = EventsView(tuple(f for kind in self.kinds for f in kind.families(poll)))
        for e in out:
            self._log.info("chain event", kind=e.kind, netuid=e.netuid, key=e.key, detail=e.detail)
        return out


async def _read_batches(snap: Any, reads: Sequence[Read], book: ReadBook) -> dict[int, Any]:
    """Every kind's batched reads at once, one ``query_batch`` each, each failing alone
    (None); an optional one that fails (an item the runtime lacks) reads as None too."""
    values = await asyncio.gather(*(_read(snap, r, book) for r in reads))
    return {id(r): v for r, v in zip(reads, values, strict=True)}


async def _read(snap: Any, read: Read, book: ReadBook) -> Any:
    if not read.optional:
        lacking = [None] * len(read.keys) if read.absent_when_lacking else None
        return await book.read(
            read.book, snap.query_batch(read.storage, read.keys), fallback=lacking
        )
    try:
        return await snap.query_batch(read.storage, read.keys)
    except Exception:
        return None


def event_families(snapshot: Any) -> list[Family]:
    """The event families of a snapshot (none when the poller watches no events).

    Every counter exists at 0 from the first poll that sees its key (each watched coldkey and
    action, each watched hotkey, each tracked hyperparameter of a read subnet), so the alerts'
    ``increase()`` sees the first event as a step from 0, never as a new series.
    """
    view = getattr(snapshot, "events", None)
    return [] if view is None else list(view.families)
