"""The threshold comparisons that both the alert rules and ``taowatch check`` apply.

Each :class:`Mark` is one comparison of an exported series against a knob of
``alerts/thresholds.yaml``. The rule templates in ``alerts/src`` write ``${mark:NAME}`` (the
whole comparison) or ``${mark_value:NAME}`` (the compared value, for a recording rule) where
they used to spell the comparison out, and ``alerts.generate`` renders it from here; the
check evaluates the same declaration on the values the exporter's collector emits
(:func:`Mark.past`). The comparison lives here, and the subnets where the alert is
silenced (``${silent:NAME}``); the other guards a rule adds (registered, a full subnet,
acting as a validator, ``for:``) stay in the template, so a marked value says "past the
alert's threshold", not "the alert fires".

Neuron series join subnet series on ``netuid`` (``on (job, instance, netuid) group_left
()`` in PromQL), the only join a mark needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from common.metric_names import Exporter as N

# A series' value for the neuron (or subnet) being judged; None when it has no sample.
Lookup = Callable[[str], float | None]

_JOIN = "on (job, instance, netuid) group_left ()"


@dataclass(frozen=True)
class Series:
    """One exported series, read as it is."""

    name: str

    def promql(self) -> str:
        return self.name

    def value(self, lookup: Lookup) -> float | None:
        return lookup(self.name)


@dataclass(frozen=True)
class Ratio:
    """A neuron series over a subnet series; no value where the subnet's is 0 or absent."""

    numerator: str
    denominator: str

    def promql(self) -> str:
        return f"{self.numerator}\n  / {_JOIN}\n({self.denominator} > 0)"

    def value(self, lookup: Lookup) -> float | None:
        top, bottom = lookup(self.numerator), lookup(self.denominator)
        if top is None or bottom is None or bottom <= 0:
            return None
        return top / bottom


@dataclass(frozen=True)
class Product:
    """Two subnet series multiplied; ``default`` where either is absent (``or`` in PromQL,
    against a series every read subnet has)."""

    left: str
    right: str
    default: float = 0.0
    present_on: str = N.SUBNET_TEMPO_BLOCKS

    def promql(self) -> str:
        fallback = f"{self.present_on} * 0"
        if self.default:
            fallback += f" + {self.default:g}"
        return (
            f"(\n  {self.left}\n    * on (job, instance, netuid)\n  {self.right}\n)\nor\n{fallback}"
        )

    def value(self, lookup: Lookup) -> float | None:
        a, b = lookup(self.left), lookup(self.right)
        if a is None or b is None:
            return self.default if lookup(self.present_on) is not None else None
        return a * b


Expr = Series | Ratio | Product

_OPS: Mapping[str, Callable[[float, float], bool]] = MappingProxyType(
    {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b,
    }
)


@dataclass(frozen=True)
class Bound:
    """``op`` against a knob (or a fixed number), times and plus a subnet value if given."""

    op: str
    knob: str | None = None
    number: float | None = None
    times: str | None = None  # a subnet series the knob scales
    plus: str | None = None  # a recording rule's name, its value declared in ``plus_value``
    plus_value: Expr | None = None

    def promql(self, value: str) -> str:
        right = f"${{{self.knob}}}" if self.knob is not None else f"{self.number:g}"
        if self.times is not None:
            return f"{value}\n  {self.op} {_JOIN}\n({right} * {self.times})"
        if self.plus is not None:
            return f"{value}\n  {self.op} {_JOIN}\n({right} + {self.plus})"
        return f"{value} {self.op} {right}"

    def limit(self, knobs: Mapping[str, float | int | str], lookup: Lookup) -> float | None:
        base = float(knobs[self.knob]) if self.knob is not None else float(self.number or 0)
        if self.times is not None:
            scale = lookup(self.times)
            return None if scale is None else base * scale
        if self.plus_value is not None:
            extra = self.plus_value.value(lookup)
            return None if extra is None else base + extra
        return base


@dataclass(frozen=True)
class Mark:
    """One alert threshold: ``value`` compared by every bound (all must hold)."""

    name: str
    alert: str
    severity: str
    value: Expr
    bounds: tuple[Bound, ...]
    # The name a recording rule gives ``value``; the comparison then reads that name.
    record: str | None = None
    # "neuron" marks a neuron's row, "subnet" a subnet's standing.
    scope: str = "neuron"
    # Subnet series that silence the alert where they are 1 (``${silent:NAME}`` in the
    # rule's ``unless``): no value is past the threshold there.
    silenced_by: tuple[str, ...] = ()

    def silence_promql(self) -> str:
        return "(" + " or ".join(f"{s} == 1" for s in self.silenced_by) + ")"

    @property
    def compared(self) -> str:
        return self.record or self.value.promql()

    def promql(self) -> str:
        return "\nand ".join(b.promql(self.compared) for b in self.bounds)

    def past(self, knobs: Mapping[str, float | int | str], lookup: Lookup) -> bool:
        """Whether the value is past the threshold; False when a series has no sample."""
        value = self.value.value(lookup)
        if value is None or any(lookup(s) == 1 for s in self.silenced_by):
            return False
        for bound in self.bounds:
            limit = bound.limit(knobs, lookup)
            if limit is None or not _OPS[bound.op](value, limit):
                return False
        return True

    def observed(self, lookup: Lookup) -> float | None:
        return self.value.value(lookup)


_REVEAL_LAG = "subnet:bittensor_subnet_reveal_lag:tempos"
# Weights mean nothing on null-consensus subnets, and root has no miners to weigh.
_NO_WEIGHTS = (N.SUBNET_NULL_CONSENSUS, N.SUBNET_IS_ROOT)

MARKS: tuple[Mark, ...] = (
    Mark(
        "pruning_position",
        "BittensorNeuronDeregistrationRisk",
        "warning",
        Series(N.NEURON_PRUNING_POSITION),
        (Bound("<=", "pruning_position_max"),),
    ),
    Mark(
        "immunity_ending",
        "BittensorNeuronImmunityEndingUnearned",
        "warning",
        Series(N.NEURON_IMMUNITY_REMAINING_BLOCKS),
        (
            Bound(">", number=0),
            Bound("<=", "immunity_ending_blocks"),
            # Past this share of the period: a neuron that just registered is not "ending".
            Bound("<=", "immunity_ending_fraction", times=N.SUBNET_IMMUNITY_PERIOD_BLOCKS),
        ),
    ),
    Mark(
        "vtrust_below_peers",
        "BittensorValidatorTrustBelowPeers",
        "warning",
        Series(N.NEURON_VALIDATOR_TRUST),
        (Bound("<", "vtrust_peer_ratio", times=N.SUBNET_VALIDATOR_TRUST_MEDIAN),),
        silenced_by=_NO_WEIGHTS,
    ),
    Mark(
        "weights_stale_warning",
        "BittensorValidatorWeightsStale",
        "warning",
        Ratio(N.NEURON_BLOCKS_SINCE_LAST_UPDATE, N.SUBNET_TEMPO_BLOCKS),
        (
            Bound(
                ">",
                "weights_stale_warning_tempos",
                plus=_REVEAL_LAG,
                plus_value=Product(N.SUBNET_REVEAL_PERIOD_EPOCHS, N.SUBNET_COMMIT_REVEAL_ENABLED),
            ),
        ),
        record="neuron:bittensor_neuron_weights_age:tempos",
        silenced_by=_NO_WEIGHTS,
    ),
    Mark(
        "weights_stale_critical",
        "BittensorValidatorWeightsStale",
        "critical",
        Ratio(N.NEURON_BLOCKS_SINCE_LAST_UPDATE, N.SUBNET_ACTIVITY_CUTOFF_BLOCKS),
        (Bound(">", "weights_stale_critical_cutoff_ratio"),),
        record="neuron:bittensor_neuron_weights_age:activity_cutoff_ratio",
        silenced_by=_NO_WEIGHTS,
    ),
    Mark(
        "emission_off",
        "BittensorSubnetEmissionOff",
        "critical",
        Series(N.SUBNET_EMISSION_ENABLED),
        (Bound("==", number=0),),
        scope="subnet",
    ),
    Mark(
        "watched_emission_off",
        "BittensorWatchedSubnetEmissionOff",
        "warning",
        Series(N.SUBNET_EMISSION_ENABLED),
        (Bound("==", number=0),),
        scope="subnet",
    ),
    Mark(
        "under_emission_bar",
        "BittensorSubnetUnderEmissionBar",
        "critical",
        Series(N.SUBNET_EMISSION_GATE_WEIGHT),
        (Bound("<", "emission_gate_weight_min"),),
        scope="subnet",
    ),
)

BY_NAME: Mapping[str, Mark] = MappingProxyType({m.name: m for m in MARKS})

# Recorded values a mark's bound reads (the reveal lag), by recording rule name.
RECORDED: Mapping[str, Expr] = MappingProxyType(
    {
        b.plus: b.plus_value
        for m in MARKS
        for b in m.bounds
        if b.plus is not None and b.plus_value is not None
    }
    | {m.record: m.value for m in MARKS if m.record is not None}
)
