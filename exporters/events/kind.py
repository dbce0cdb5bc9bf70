"""What every chain-event kind declares, and what one poll hands each of them.

A kind (one module in this package) is a class with:

* ``key``: its part of the state file's ``events`` section (plain JSON, so counters survive
  a restart);
* ``series``: the :class:`common.series.Series` it exports (declared in its module);
* ``alerts``: the alert names that page on it (``alerts/src/events.yaml``), whose ``change``
  annotation gives the notification's old -> new text;
* ``reads(poll)``: its batched storage reads, one ``query_batch`` each, whatever the number
  of keys;
* ``diff(poll, results)``: the events since the last poll, as :class:`EventChange` with the
  change text;
* ``families(poll)``: its families from its state, frozen into the snapshot;
* ``dashboard``: how the subnet and neuron dashboards show its counters
  (:class:`Annotation` markers and :class:`PanelQuery` lines on their "Chain events" panel),
  which ``grafana/dashboards/builders/_events.py`` builds for every kind.

:class:`exporters.events.watcher.EventWatcher` loops over the kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from common.series import Series
from exporters.family import Family
from exporters.snapshot import SubnetView, WatchedNeuron

U16_MAX = 65535
U64_MAX = 2**64 - 1
# No subnet-wide (netuid) label: a coldkey swap or a take change belongs to a key.
NO_NETUID = -1


@dataclass(frozen=True, slots=True)
class EventChange:
    """One event, for the poller's change log and the agent's log."""

    block: int
    netuid: int
    key: str
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class Poll:
    """What one trusted poll watches and already read, shared by every kind."""

    block: int
    coldkeys: tuple[str, ...]
    hotkeys: tuple[str, ...]  # watched hotkeys, sorted
    pairs: tuple[tuple[int, str], ...]  # watched (netuid, hotkey) off root, sorted
    subnets: Mapping[int, SubnetView]
    metagraphs: Mapping[int, Any]
    watched: Sequence[WatchedNeuron]


@dataclass(frozen=True, slots=True)
class Read:
    """One batched storage read: ``storage`` at every key in ``keys``."""

    name: str
    storage: Any
    keys: list[list[Any]]
    # A storage item only newer runtimes have: where the read fails, the kind gets None
    # instead of the poll failing.
    optional: bool = False
    # Its name in ``exporters.reads.READS``: the read fails alone, counted under that name,
    # and a kind with a failed read skips its diff this poll (a refused read is never an
    # announcement gone or a take changed). Empty for an ``optional`` read.
    book: str = ""
    # Where the runtime lacks the item, every key reads as the chain's default (no entry)
    # instead of as a failure (the coldkey-swap maps of older runtimes).
    absent_when_lacking: bool = False


@dataclass(frozen=True, slots=True)
class Annotation:
    """A dashboard marker where ``counter`` increased: on ``view`` ("subnet" or "neuron"),
    summed ``by`` those labels, over the neurons ``scope`` selects ("subnet", "hotkey",
    "neuron", or None for every series); ``place`` orders the markers of all kinds."""

    view: str
    place: int
    counter: Series
    by: str
    scope: str | None
    name: str
    colour: str  # "yellow", "red" or "blue"
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class PanelQuery:
    """One line of ``view``'s "Chain events" panel: ``counter``'s increase per interval."""

    view: str
    place: int
    counter: Series
    by: str
    scope: str | None
    legend: str


class EventKind:
    """Base of every kind: holds its JSON state; subclasses declare the rest."""

    key: ClassVar[str]
    series: ClassVar[tuple[Series, ...]]
    alerts: ClassVar[tuple[str, ...]]
    # Exposition order among the kinds (lower first).
    order: ClassVar[int]
    dashboard: ClassVar[tuple[Annotation | PanelQuery, ...]] = ()

    def __init__(self, state: Mapping[str, Any] | None = None):
        self.state: dict[str, Any] = dict(state or {})

    def reads(self, poll: Poll) -> tuple[Read, ...]:
        return ()

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        raise NotImplementedError

    def families(self, poll: Poll) -> list[Family]:
        raise NotImplementedError


def number(value: Any) -> float | None:
    """A storage or record value as a float: bools 0/1, balances in rao; None otherwise."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    rao = getattr(value, "rao", None)
    if isinstance(rao, int):
        return float(rao)
    return None


def child_pairs(raw: Any) -> list[list[Any]]:
    """``[(proportion u64, child)]`` as sorted ``[child, ratio]`` (JSON-friendly)."""
    out = [[str(c), int(p) / U64_MAX] for p, c in (raw or [])]
    return sorted(out)


def children_text(pairs: Iterable[Sequence[Any]]) -> str:
    text = ", ".join(f"{c} {p:.4g}" for c, p in pairs)
    return text or "none"
