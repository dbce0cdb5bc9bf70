"""What ``taowatch check`` reports: one poll's watched neurons and their subnets, with every
value past an alert threshold marked.

The values come from the families the agent's collector would serve for that snapshot
(:meth:`exporters.collector.ChainCollector.snapshot_families`), and each mark is a
declaration of :mod:`alerts.marks` evaluated on those series: the same declaration
``alerts.generate`` renders into the rule's PromQL, with the knob from
``alerts/thresholds.yaml``. Nothing here restates a threshold or a comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from alerts.marks import MARKS, Mark
from exporters.collector import ChainCollector
from exporters.eviction import registrations_until_pruned
from exporters.family import Family
from exporters.snapshot import ChainSnapshot, NeuronView, SubnetView

# Marks on values only a validator has: the check shows (and marks) them only for neurons the
# exporter ranks among the subnet's validators, as the rules judge only those.
VALIDATOR_MARKS = frozenset(
    {"vtrust_below_peers", "weights_stale_warning", "weights_stale_critical"}
)


@dataclass(frozen=True)
class Flag:
    """A value past an alert threshold."""

    mark: str
    alert: str
    severity: str
    knob: str | None
    threshold: float | int | str | None
    value: float | None


@dataclass(frozen=True)
class SubnetRow:
    netuid: int
    emission_enabled: bool | None  # SubnetEmissionEnabled
    emission_share: float | None  # of the block's TAO, as the chain paid it
    demand_share: float | None  # EMA-price share after miner burn: what the gate weighs
    gate_weight: float | None  # s^h / (s^h + bar^h); None without a stored bar
    bar_ratio: float | None  # demand share over the bar
    ema_price_tao: float | None
    tempo: int
    neurons: int
    max_neurons: int
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class NeuronRow:
    netuid: int | None
    hotkey: str
    registered: bool
    uid: int | None = None
    incentive: float | None = None
    dividends: float | None = None
    validator_trust: float | None = None
    validator_trust_rank: int | None = None  # 1 = highest
    validators: int | None = None
    stake_alpha: float | None = None
    stake_tao: float | None = None
    stake_weight: float | None = None
    blocks_since_weights: int | None = None
    tempos_since_weights: float | None = None
    immunity_left_blocks: int | None = None
    pruning_position: int | None = None
    # The exporter's bittensor_neuron_registrations_until_pruned; the ETA in time needs the
    # registration rate Prometheus sees over a window, which one poll does not have.
    registrations_until_evicted: int | None = None
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class Report:
    network: str
    endpoint: str
    block: int
    subnets: tuple[SubnetRow, ...]
    neurons: tuple[NeuronRow, ...]

    @property
    def unregistered(self) -> tuple[NeuronRow, ...]:
        return tuple(n for n in self.neurons if not n.registered)

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "endpoint": self.endpoint,
            "block": self.block,
            "subnets": [asdict(s) for s in self.subnets],
            "neurons": [asdict(n) for n in self.neurons],
            "unregistered": [{"netuid": n.netuid, "hotkey": n.hotkey} for n in self.unregistered],
        }


class SeriesIndex:
    """The collector's families, looked up per neuron and per subnet by series name."""

    def __init__(self, families: Iterable[Family]):
        self._neuron: dict[tuple[str, str, str], float] = {}
        self._subnet: dict[tuple[str, str], float] = {}
        for family in families:
            names = family.label_names
            for labels, value in zip(family.label_values, family.values, strict=True):
                if value is None:
                    continue
                by = dict(zip(names, labels, strict=True))
                if "hotkey" in by and "netuid" in by:
                    self._neuron[(family.name, by["netuid"], by["hotkey"])] = value
                elif names == ("netuid",):
                    self._subnet[(family.name, by["netuid"])] = value

    def for_neuron(self, netuid: int, hotkey: str):
        def lookup(name: str) -> float | None:
            found = self._neuron.get((name, str(netuid), hotkey))
            return found if found is not None else self._subnet.get((name, str(netuid)))

        return lookup

    def for_subnet(self, netuid: int):
        return lambda name: self._subnet.get((name, str(netuid)))


def _flags(
    marks: Sequence[Mark], knobs: Mapping[str, Any], lookup, skip: frozenset[str] = frozenset()
) -> tuple[Flag, ...]:
    out = []
    for mark in marks:
        if mark.name in skip or not mark.past(knobs, lookup):
            continue
        knob = next((b.knob for b in mark.bounds if b.knob is not None), None)
        out.append(
            Flag(
                mark.name,
                mark.alert,
                mark.severity,
                knob,
                knobs.get(knob) if knob else None,
                mark.observed(lookup),
            )
        )
    return tuple(out)


def _subnet_row(view: SubnetView, snap: ChainSnapshot, index: SeriesIndex, knobs) -> SubnetRow:
    standing = snap.chain_wide.standings.get(view.netuid) if snap.chain_wide else None
    marks = [m for m in MARKS if m.scope == "subnet"]
    return SubnetRow(
        netuid=view.netuid,
        emission_enabled=standing.emission_enabled if standing else None,
        emission_share=standing.share if standing else None,
        demand_share=standing.demand_share if standing else None,
        gate_weight=standing.gate_weight if standing else None,
        bar_ratio=standing.bar_ratio if standing else None,
        ema_price_tao=standing.ema_price_tao if standing else None,
        tempo=view.tempo,
        neurons=view.num_neurons,
        max_neurons=view.max_neurons,
        flags=_flags(marks, knobs, index.for_subnet(view.netuid)),
    )


def _neuron_row(n: NeuronView, view: SubnetView, index: SeriesIndex, knobs) -> NeuronRow:
    validator = n.validator_trust_rank is not None
    lookup = index.for_neuron(n.netuid, n.hotkey)
    marks = [m for m in MARKS if m.scope == "neuron"]
    validators = sum(1 for v in view.neurons if v.validator_trust_rank is not None)
    return NeuronRow(
        netuid=n.netuid,
        hotkey=n.hotkey,
        registered=True,
        uid=n.uid,
        incentive=n.incentive,
        dividends=n.dividends,
        validator_trust=n.validator_trust if validator else None,
        validator_trust_rank=n.validator_trust_rank + 1 if validator else None,
        validators=validators if validator else None,
        stake_alpha=n.stake_alpha,
        stake_tao=n.stake_tao,
        stake_weight=n.stake_weight,
        blocks_since_weights=n.blocks_since_last_update if validator else None,
        tempos_since_weights=(
            n.blocks_since_last_update / view.tempo if validator and view.tempo else None
        ),
        immunity_left_blocks=n.immunity_remaining_blocks,
        pruning_position=n.pruning_position,
        registrations_until_evicted=registrations_until_pruned(
            view.max_neurons - view.num_neurons,
            n.pruning_position,
            n.pruning_position_after_immunity,
            n.immune,
        ),
        flags=_flags(marks, knobs, lookup, frozenset() if validator else VALIDATOR_MARKS),
    )


def build_report(
    snap: ChainSnapshot,
    network: str,
    knobs: Mapping[str, Any],
    missing: Iterable[str] = (),
) -> Report:
    """The report of ``snap``'s watched neurons; ``missing`` are hotkeys found on no subnet."""
    index = SeriesIndex(ChainCollector.snapshot_families(snap))
    neurons: list[NeuronRow] = []
    netuids: set[int] = set()
    for w in snap.watched:
        view = snap.subnets.get(w.netuid)
        netuids.add(w.netuid)
        if w.neuron is None or view is None:
            neurons.append(NeuronRow(w.netuid, w.hotkey, registered=False))
        else:
            neurons.append(_neuron_row(w.neuron, view, index, knobs))
    neurons += [NeuronRow(None, hk, registered=False) for hk in missing]
    subnets = tuple(
        _subnet_row(snap.subnets[n], snap, index, knobs)
        for n in sorted(netuids)
        if n in snap.subnets and snap.subnets[n].exists
    )
    return Report(network, snap.endpoint, snap.block, subnets, tuple(neurons))


# --- the text table -------------------------------------------------------------------------

_MARKER = "!"


def _num(value: float | None, fmt: str = ".4g") -> str:
    return "-" if value is None else format(value, fmt)


def _flag_note(flags: Iterable[Flag], names: set[str]) -> str:
    notes = [
        f"{_MARKER} {f.alert} ({f.severity}): past {f.knob}={f.threshold}"
        if f.knob
        else f"{_MARKER} {f.alert} ({f.severity})"
        for f in flags
        if f.mark in names
    ]
    return "   " + "; ".join(notes) if notes else ""


def _lines(rows: Sequence[tuple[str, str, set[str]]], flags: tuple[Flag, ...]) -> list[str]:
    width = max(len(label) for label, _, _ in rows)
    out = []
    for label, value, names in rows:
        flagged = any(f.mark in names for f in flags)
        lead = _MARKER if flagged else " "
        out.append(f"  {lead} {label:<{width}}  {value}{_flag_note(flags, names)}")
    return out


def _subnet_text(s: SubnetRow) -> list[str]:
    if s.demand_share is None:
        standing = "unknown (the chain-wide reads failed)"
    elif s.emission_enabled is False:
        standing = "switched off (SubnetEmissionEnabled): its pool gets no TAO"
    else:
        paid = (
            f"{_num(s.emission_share * 100, '.3g')}% of the block's TAO"
            if s.emission_share is not None
            else "no TAO paid this block"
        )
        gate = (
            f"gate weight {_num(s.gate_weight, '.2f')}, {_num(s.bar_ratio, '.2f')}x the bar's share"
            if s.gate_weight is not None and s.bar_ratio is not None
            else "no emission bar stored"
        )
        standing = f"{paid}; {gate}"
    rows = [
        ("emission", standing, {"emission_off", "watched_emission_off", "under_emission_bar"}),
        ("neurons", f"{s.neurons} of {s.max_neurons} uids, tempo {s.tempo} blocks", set()),
    ]
    return [f"subnet {s.netuid}", *_lines(rows, s.flags)]


def _neuron_text(n: NeuronRow) -> list[str]:
    head = f"  neuron {n.hotkey}" + (f"  uid {n.uid}" if n.uid is not None else "")
    if not n.registered:
        where = f"subnet {n.netuid}" if n.netuid is not None else "any subnet"
        return [head, f"  {_MARKER} registered  NO: not registered on {where}"]
    if n.validator_trust is not None:
        vtrust = (
            f"{_num(n.validator_trust, '.3f')} "
            f"(rank {n.validator_trust_rank} of {n.validators} validators)"
        )
        weights = (
            f"{n.blocks_since_weights} blocks, {_num(n.tempos_since_weights, '.1f')} tempos ago"
        )
    else:
        vtrust = weights = "- (not acting as a validator)"
    if n.pruning_position is None:
        pruning = "- (the next registrations cannot evict it)"
    else:
        pruning = f"{n.pruning_position} (0 = the next registration evicts it)"
        if n.registrations_until_evicted is not None:
            pruning += f", evicted by the {_ordinal(n.registrations_until_evicted)} registration"
    rows = [
        ("registered", "yes", set()),
        ("incentive", _num(n.incentive), set()),
        ("dividends", _num(n.dividends), set()),
        ("vtrust", vtrust, {"vtrust_below_peers"}),
        (
            "stake",
            f"{_num(n.stake_alpha)} alpha, {_num(n.stake_tao)} TAO on root, "
            f"weight {_num(n.stake_weight)}",
            set(),
        ),
        ("last weights", weights, {"weights_stale_warning", "weights_stale_critical"}),
        ("immunity left", f"{n.immunity_left_blocks} blocks", {"immunity_ending"}),
        ("pruning position", pruning, {"pruning_position"}),
    ]
    return [head, *_lines(rows, n.flags)]


def render_text(report: Report) -> str:
    lines = [f"{report.network} at block {report.block} (endpoint {report.endpoint})", ""]
    by_subnet: dict[int | None, list[NeuronRow]] = {}
    for n in report.neurons:
        by_subnet.setdefault(n.netuid, []).append(n)
    for s in report.subnets:
        lines += _subnet_text(s)
        for n in sorted(by_subnet.pop(s.netuid, []), key=lambda n: (n.uid is None, n.uid or 0)):
            lines += _neuron_text(n)
        lines.append("")
    for netuid, rows in by_subnet.items():
        lines.append(f"subnet {netuid}" if netuid is not None else "not on any subnet")
        for n in rows:
            lines += _neuron_text(n)
        lines.append("")
    flagged = sum(len(n.flags) for n in report.neurons) + sum(len(s.flags) for s in report.subnets)
    missing = len(report.unregistered)
    lines.append(
        f"{len(report.neurons)} neuron(s) on {len(report.subnets)} subnet(s); "
        f"{flagged} value(s) past an alert threshold ({_MARKER}); {missing} not registered"
    )
    return "\n".join(lines)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
