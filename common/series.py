"""A series as one value: its name, kind, HELP, labels and unit, declared once.

``common.metric_names`` declares every series taowatch exposes as a :class:`Series`; the
exporter's areas build their families from it, the neuron and probe registries take their
HELP from it, and the dashboards, alert tests and e2e tests import it. A ``Series`` is a
``str`` (its name), so a PromQL f-string or a dict key reads it as the bare name.
"""

from __future__ import annotations

from typing import Any

KINDS = ("gauge", "counter", "histogram")

CACHED = "Cached: read from the chain once per poll (every block by default)."


def cached(help_: str) -> str:
    """HELP for a value read from the chain once per poll."""
    return f"{help_} {CACHED}"


class Series(str):
    """A declared series. ``name`` carries no ``_total``: counters get it on the wire, as
    prometheus-client does (:attr:`wire_names`)."""

    kind: str
    help: str
    labels: tuple[str, ...]
    unit: str

    def __new__(
        cls,
        name: str,
        kind: str,
        help: str,
        labels: tuple[str, ...] = (),
        unit: str = "",
    ) -> Series:
        if kind not in KINDS:
            raise ValueError(f"{name}: kind {kind!r} is none of {KINDS}")
        self = super().__new__(cls, name)
        for field, value in (("kind", kind), ("help", help), ("labels", labels), ("unit", unit)):
            object.__setattr__(self, field, value)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Series is immutable ({self}.{name})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Series, (str(self), self.kind, self.help, self.labels, self.unit))

    @property
    def name(self) -> str:
        return str(self)

    @property
    def wire_names(self) -> tuple[str, ...]:
        """The sample names this series puts on the wire."""
        if self.kind == "counter":
            return (f"{self}_total",)
        if self.kind == "histogram":
            return (f"{self}_bucket", f"{self}_count", f"{self}_sum")
        return (str(self),)


class SeriesGroup:
    """A namespace of declared series (class attributes); iterating it yields them in
    declaration order."""

    def __init_subclass__(cls) -> None:
        # A group may inherit another's declarations (a module split by concern); its own
        # come first, then each base's, each series once.
        seen: dict[str, Series] = {}
        for klass in cls.__mro__:
            for v in vars(klass).values():
                if isinstance(v, Series):
                    seen.setdefault(str(v), v)
        cls._series = tuple(seen.values())

    @classmethod
    def all(cls) -> tuple[Series, ...]:
        return cls._series  # type: ignore[attr-defined]
